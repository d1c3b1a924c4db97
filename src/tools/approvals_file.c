/*
 * approvals_file.c - exec-approvals.json, policy resolution, command
 * segmentation and allowlist matching; see approvals_file.h.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/fs.h"
#include "core/id.h"
#include "core/mem.h"
#include "core/str.h"
#include "tools/approvals_file.h"

/* ==== names ==== */

static const char *const sec_names[] = { "deny", "allowlist", "full" };
static const char *const ask_names[] = { "off", "on-miss", "always" };

const char *apf_security_name(enum apf_security s)
{
	return sec_names[s];
}

const char *apf_ask_name(enum apf_ask a)
{
	return ask_names[a];
}

int apf_security_parse(const char *s)
{
	for (int i = 0; s && i < 3; i++)
		if (!strcasecmp(s, sec_names[i]))
			return i;
	return -1;
}

int apf_ask_parse(const char *s)
{
	for (int i = 0; s && i < 3; i++)
		if (!strcasecmp(s, ask_names[i]))
			return i;
	return -1;
}

/* Exact (case-sensitive) forms, as the persisted schema wants them. */
static int sec_exact(const json_t *v)
{
	const char *s = json_string_value(v);

	for (int i = 0; s && i < 3; i++)
		if (!strcmp(s, sec_names[i]))
			return i;
	return -1;
}

static int ask_exact(const json_t *v)
{
	const char *s = json_string_value(v);

	for (int i = 0; s && i < 3; i++)
		if (!strcmp(s, ask_names[i]))
			return i;
	return -1;
}

/* ==== the file ==== */

char *apf_path(const char *state_dir)
{
	return fs_join(state_dir, APF_FILE_NAME);
}

void apf_hash(const char *raw, size_t len, char out[APF_HASH_LEN])
{
	char hex[2 * CRYPTO_SHA256_LEN + 1];

	if (!raw) {
		crypto_sha256_hex("", 0, hex);
		snprintf(out, APF_HASH_LEN, "missing:%s", hex);
		return;
	}
	crypto_sha256_hex(raw, len, hex);
	snprintf(out, APF_HASH_LEN, "%s", hex);
}

static json_t *fail_closed_doc(void)
{
	return json_pack("{s:i, s:{s:s, s:s, s:s, s:b}, s:{}}", "version", 1, "defaults",
			 "security", "deny", "ask", "off", "askFallback", "deny", "autoAllowSkills",
			 0, "agents");
}

int apf_load(const char *path, struct apf_snapshot *snap)
{
	struct buf b;
	json_t *doc;
	json_error_t je;

	memset(snap, 0, sizeof(*snap));
	buf_init(&b, APF_MAX_BYTES);
	if (fs_read_file(path, &b) < 0) {
		int e = errno;
		buf_release(&b);
		if (e == ENOENT) {
			snap->file = json_pack("{s:i, s:{}}", "version", 1, "agents");
			apf_normalize(snap->file);
			apf_hash(NULL, 0, snap->hash);
			return 0;
		}
		snprintf(snap->err, sizeof(snap->err), "cannot read %s: %s", path, strerror(e));
		snap->exists = true;
		snap->malformed = true;
		snap->file = fail_closed_doc();
		apf_normalize(snap->file);
		apf_hash("", 0, snap->hash);
		return -1;
	}
	snap->exists = true;
	snap->raw = xstrndup(b.p ? b.p : "", b.len);
	apf_hash(snap->raw, b.len, snap->hash);
	buf_release(&b);
	doc = json_loads(snap->raw, JSON_REJECT_DUPLICATES, &je);
	if (!doc) {
		snprintf(snap->err, sizeof(snap->err), "invalid JSON syntax");
	} else if (apf_validate(doc, false, snap->err, sizeof(snap->err)) < 0) {
		json_decref(doc);
		doc = NULL;
	}
	if (!doc) {
		snap->malformed = true;
		doc = fail_closed_doc();
	}
	apf_normalize(doc);
	snap->file = doc;
	return 0;
}

void apf_snapshot_release(struct apf_snapshot *snap)
{
	json_decref(snap->file);
	free(snap->raw);
	memset(snap, 0, sizeof(*snap));
}

/* ---- validation ---- */

static bool key_in(const char *k, const char *const *keys)
{
	for (; *keys; keys++)
		if (!strcmp(k, *keys))
			return true;
	return false;
}

static int closed_keys(const json_t *o, const char *const *keys, const char *where, char *err,
		       size_t errlen)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v)
	{
		if (!key_in(k, keys)) {
			snprintf(err, errlen, "%s: unexpected property '%s'", where, k);
			return -1;
		}
	}
	return 0;
}

static int check_policy(const json_t *o, const char *where, bool closed, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"security", "ask", "askFallback", "autoAllowSkills", "allowlist", "mcpTools", NULL
	};
	static const char *const dkeys[] = { "security", "ask", "askFallback", "autoAllowSkills",
					     NULL };
	const char *f[] = { "security", "ask", "askFallback" };
	json_t *v;

	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s: expected an object", where);
		return -1;
	}
	for (size_t i = 0; i < 3; i++) {
		v = json_object_get(o, f[i]);
		if (!v)
			continue;
		/* the persisted schema wants an enum value; the protocol's a string */
		if (closed ? !json_is_string(v) : (i == 1 ? ask_exact(v) : sec_exact(v)) < 0) {
			snprintf(err, errlen, "%s.%s: %s", where, f[i],
				 json_is_string(v) ? "expected a supported value"
						   : "expected a string");
			return -1;
		}
	}
	v = json_object_get(o, "autoAllowSkills");
	if (v && !json_is_boolean(v)) {
		snprintf(err, errlen, "%s.autoAllowSkills: expected a boolean", where);
		return -1;
	}
	if (closed && closed_keys(o, strcmp(where, "defaults") ? keys : dkeys, where, err, errlen))
		return -1;
	return 0;
}

static int check_entry(const json_t *e, const char *where, bool closed, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"id",         "pattern",         "source",           "commandText", "argPattern",
		"lastUsedAt", "lastUsedCommand", "lastResolvedPath", NULL
	};
	static const char *const strs[] = { "id",         "source",          "commandText",
					    "argPattern", "lastUsedCommand", "lastResolvedPath" };
	const char *p;
	json_t *v;

	if (json_is_string(e)) {
		p = json_string_value(e);
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || closed) {
			snprintf(err, errlen, "%s: %s", where,
				 closed ? "expected an object"
					: "expected a non-empty string or an object with a "
					  "non-empty pattern");
			return -1;
		}
		return 0;
	}
	if (!json_is_object(e)) {
		snprintf(err, errlen,
			 "%s: expected a non-empty string or an object with a non-empty pattern",
			 where);
		return -1;
	}
	v = json_object_get(e, "pattern");
	p = json_string_value(v);
	while (p && isspace((unsigned char)*p))
		p++;
	if (!p || (!closed && !*p)) {
		snprintf(err, errlen, "%s.pattern: %s", where,
			 p ? "expected a non-empty string" : "expected a string");
		return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
		v = json_object_get(e, strs[i]);
		if (v && !json_is_string(v)) {
			snprintf(err, errlen, "%s.%s: expected a string", where, strs[i]);
			return -1;
		}
	}
	v = json_object_get(e, "lastUsedAt");
	if (v && (!json_is_number(v) || json_number_value(v) < 0)) {
		snprintf(err, errlen, "%s.lastUsedAt: expected a finite number", where);
		return -1;
	}
	if (closed) {
		v = json_object_get(e, "source");
		if (v && strcmp(json_string_value(v), "allow-always")) {
			snprintf(err, errlen, "%s.source: expected a supported value", where);
			return -1;
		}
		if (closed_keys(e, keys, where, err, errlen))
			return -1;
	}
	return 0;
}

int apf_validate(const json_t *doc, bool closed, char *err, size_t errlen)
{
	static const char *const top[] = { "version", "socket", "defaults", "agents", NULL };
	static const char *const sock[] = { "path", "token", NULL };
	json_t *v, *agents, *a, *e;
	const char *k;
	char where[96];
	size_t ord = 0, i;

	if (!json_is_object(doc)) {
		snprintf(err, errlen, "document: expected an object");
		return -1;
	}
	v = json_object_get(doc, "version");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		snprintf(err, errlen, "version: expected a supported value");
		return -1;
	}
	if (closed && closed_keys(doc, top, "document", err, errlen))
		return -1;
	v = json_object_get(doc, "socket");
	if (v) {
		if (!json_is_object(v)) {
			snprintf(err, errlen, "socket: expected an object");
			return -1;
		}
		for (i = 0; sock[i]; i++)
			if (json_object_get(v, sock[i]) &&
			    !json_is_string(json_object_get(v, sock[i]))) {
				snprintf(err, errlen, "socket.%s: expected a string", sock[i]);
				return -1;
			}
		if (closed && closed_keys(v, sock, "socket", err, errlen))
			return -1;
	}
	v = json_object_get(doc, "defaults");
	if (v && check_policy(v, "defaults", closed, err, errlen))
		return -1;
	agents = json_object_get(doc, "agents");
	if (!agents)
		return 0;
	if (!json_is_object(agents)) {
		snprintf(err, errlen, "agents: expected an object");
		return -1;
	}
	json_object_foreach(agents, k, a)
	{
		ord++;
		if (!strcmp(k, "__proto__")) {
			snprintf(err, errlen, "agents: invalid value");
			return -1;
		}
		snprintf(where, sizeof(where), "agents entry #%zu", ord);
		if (check_policy(a, where, closed, err, errlen))
			return -1;
		v = json_object_get(a, "allowlist");
		if (!v)
			continue;
		if (!json_is_array(v)) {
			snprintf(err, errlen, "%s.allowlist: expected an array", where);
			return -1;
		}
		json_array_foreach(v, i, e)
		{
			char w2[128];
			snprintf(w2, sizeof(w2), "%s.allowlist[%zu]", where, i);
			if (check_entry(e, w2, closed, err, errlen))
				return -1;
		}
		v = json_object_get(a, "mcpTools");
		if (v && !json_is_array(v)) {
			snprintf(err, errlen, "%s.mcpTools: expected an array", where);
			return -1;
		}
	}
	return 0;
}

/* ---- normalization ---- */

static void sanitize_policy(json_t *o)
{
	json_t *v;

	if (!json_is_object(o))
		return;
	if ((v = json_object_get(o, "security")) && sec_exact(v) < 0)
		json_object_del(o, "security");
	if ((v = json_object_get(o, "ask")) && ask_exact(v) < 0)
		json_object_del(o, "ask");
	if ((v = json_object_get(o, "askFallback")) && sec_exact(v) < 0)
		json_object_del(o, "askFallback");
}

static void normalize_allowlist(json_t *agent)
{
	json_t *list = json_object_get(agent, "allowlist"), *out, *e;
	size_t i;

	if (!json_is_array(list))
		return;
	out = json_array();
	json_array_foreach(list, i, e)
	{
		json_t *n = NULL;
		if (json_is_string(e)) {
			const char *p = json_string_value(e);
			size_t len;
			while (isspace((unsigned char)*p))
				p++;
			len = strlen(p);
			while (len && isspace((unsigned char)p[len - 1]))
				len--;
			if (len) {
				char *t = xstrndup(p, len);
				n = json_pack("{s:s}", "pattern", t);
				free(t);
			}
		} else if (json_is_object(e) && json_string_value(json_object_get(e, "pattern"))) {
			n = json_deep_copy(e);
		}
		if (!n)
			continue;
		if (!json_string_value(json_object_get(n, "id"))) {
			char id[37];
			id_uuid(id);
			/* the id goes first, as OpenClaw's spread writes it */
			json_t *m = json_pack("{s:s}", "id", id);
			json_object_update(m, n);
			json_decref(n);
			n = m;
		}
		json_object_del(n, "commandText");
		json_array_append_new(out, n);
	}
	if (json_array_size(out))
		json_object_set_new(agent, "allowlist", out);
	else {
		json_decref(out);
		json_object_del(agent, "allowlist");
	}
}

void apf_normalize(json_t *doc)
{
	json_t *agents, *sock, *a, *legacy, *main;
	const char *k;

	if (!json_is_object(doc))
		return;
	json_object_set_new(doc, "version", json_integer(1));
	sock = json_object_get(doc, "socket");
	if (json_is_object(sock)) {
		const char *p = json_string_value(json_object_get(sock, "path"));
		const char *t = json_string_value(json_object_get(sock, "token"));
		if (p && !*p)
			json_object_del(sock, "path");
		if (t && !*t)
			json_object_del(sock, "token");
		if (!json_object_size(sock))
			json_object_del(doc, "socket");
	}
	if (!json_is_object(json_object_get(doc, "defaults")))
		json_object_set_new(doc, "defaults", json_object());
	sanitize_policy(json_object_get(doc, "defaults"));
	agents = json_object_get(doc, "agents");
	if (!json_is_object(agents)) {
		agents = json_object();
		json_object_set_new(doc, "agents", agents);
	}
	legacy = json_object_get(agents, "default");
	if (json_is_object(legacy)) {
		main = json_object_get(agents, "main");
		if (!json_is_object(main)) {
			json_object_set(agents, "main", legacy);
		} else {
			/* main's own fields win; allowlists are concatenated */
			const char *f;
			json_t *v, *ml = json_object_get(main, "allowlist");
			json_object_foreach(legacy, f, v)
			{
				if (!strcmp(f, "allowlist"))
					continue;
				if (!json_object_get(main, f))
					json_object_set(main, f, v);
			}
			if (json_is_array(json_object_get(legacy, "allowlist"))) {
				if (!json_is_array(ml)) {
					ml = json_array();
					json_object_set_new(main, "allowlist", ml);
				}
				json_array_extend(ml, json_object_get(legacy, "allowlist"));
			}
		}
		json_object_del(agents, "default");
	}
	json_object_foreach(agents, k, a)
	{
		sanitize_policy(a);
		normalize_allowlist(a);
	}
	/* OpenClaw's key order: version, socket, defaults, agents, then anything else */
	{
		static const char *const order[] = { "version", "socket", "defaults", "agents" };
		json_t *copy = json_copy(doc), *v;
		json_object_clear(doc);
		for (size_t i = 0; i < ARRAY_SIZE(order); i++)
			if ((v = json_object_get(copy, order[i])))
				json_object_set(doc, order[i], v);
		json_object_update_missing(doc, copy);
		json_decref(copy);
	}
}

char *apf_serialize(const json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char *r = xasprintf("%s\n", s ? s : "{}");

	free(s);
	return r;
}

int apf_save(const char *path, const json_t *doc, char *hash, char *err, size_t errlen)
{
	char *s = apf_serialize(doc), *dir = fs_dirname(path);
	int r = 0;

	if (fs_mkdir_p(dir, 0700) < 0 || fs_write_atomic(path, s, strlen(s), 0600) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		r = -1;
	} else {
		/* an existing file keeps its mode through rename; make sure */
		chmod(path, 0600);
		if (hash)
			apf_hash(s, strlen(s), hash);
	}
	free(dir);
	free(s);
	return r;
}

/* ==== policy ==== */

void apf_resolve(const json_t *doc, const char *agent_id, const struct apf_policy *fallback,
		 struct apf_policy *out)
{
	const json_t *defaults = json_object_get(doc, "defaults");
	const json_t *agents = json_object_get(doc, "agents");
	const json_t *agent = json_object_get(agents, agent_id ? agent_id : "default");
	const json_t *wild = json_object_get(agents, "*");
	struct apf_policy d = *fallback;
	int v;
	json_t *b;

	if ((v = sec_exact(json_object_get(defaults, "security"))) >= 0)
		d.security = v;
	if ((v = ask_exact(json_object_get(defaults, "ask"))) >= 0)
		d.ask = v;
	if ((v = sec_exact(json_object_get(defaults, "askFallback"))) >= 0)
		d.ask_fallback = v;
	if (json_is_boolean(b = json_object_get(defaults, "autoAllowSkills")))
		d.auto_allow_skills = json_is_true(b);
	*out = d;
	/*
	 * The agent's field, else the wildcard's, else the defaults. A field
	 * present but invalid falls back to the defaults, not the wildcard.
	 */
	if (json_object_get(agent, "security"))
		v = sec_exact(json_object_get(agent, "security"));
	else
		v = sec_exact(json_object_get(wild, "security"));
	if (v >= 0)
		out->security = v;
	if (json_object_get(agent, "ask"))
		v = ask_exact(json_object_get(agent, "ask"));
	else
		v = ask_exact(json_object_get(wild, "ask"));
	if (v >= 0)
		out->ask = v;
	if (json_object_get(agent, "askFallback"))
		v = sec_exact(json_object_get(agent, "askFallback"));
	else
		v = sec_exact(json_object_get(wild, "askFallback"));
	if (v >= 0)
		out->ask_fallback = v;
	if (json_is_boolean(b = json_object_get(agent, "autoAllowSkills")) ||
	    json_is_boolean(b = json_object_get(wild, "autoAllowSkills")))
		out->auto_allow_skills = json_is_true(b);
}

json_t *apf_resolved_defaults(const json_t *doc)
{
	const json_t *d = json_object_get(doc, "defaults");
	struct apf_policy p = { APF_FULL, APF_ASK_OFF, APF_DENY, false };
	int v;

	if ((v = sec_exact(json_object_get(d, "security"))) >= 0)
		p.security = v;
	if ((v = ask_exact(json_object_get(d, "ask"))) >= 0)
		p.ask = v;
	if ((v = sec_exact(json_object_get(d, "askFallback"))) >= 0)
		p.ask_fallback = v;
	if (json_is_boolean(json_object_get(d, "autoAllowSkills")))
		p.auto_allow_skills = json_is_true(json_object_get(d, "autoAllowSkills"));
	return json_pack("{s:s, s:s, s:s, s:b}", "security", apf_security_name(p.security), "ask",
			 apf_ask_name(p.ask), "askFallback", apf_security_name(p.ask_fallback),
			 "autoAllowSkills", p.auto_allow_skills);
}

json_t *apf_allowlist(const json_t *doc, const char *agent_id)
{
	const json_t *agents = json_object_get(doc, "agents");
	json_t *out = json_array(), *l;

	l = json_object_get(json_object_get(agents, "*"), "allowlist");
	if (json_is_array(l))
		json_array_extend(out, l);
	if (agent_id && strcmp(agent_id, "*")) {
		l = json_object_get(json_object_get(agents, agent_id), "allowlist");
		if (json_is_array(l))
			json_array_extend(out, l);
	}
	return out;
}

/* ==== commands ==== */

static void seg_release(struct apf_segment *s)
{
	for (size_t i = 0; i < s->argc; i++)
		free(s->argv[i]);
	free(s->argv);
	free(s->resolved);
	free(s->resolved_real);
}

void apf_analysis_release(struct apf_analysis *a)
{
	for (size_t i = 0; i < a->nseg; i++)
		seg_release(&a->seg[i]);
	free(a->seg);
	memset(a, 0, sizeof(*a));
}

char *apf_which(const char *name, const char *cwd, const char *path_env)
{
	struct stat st;
	char *p, *dirs, *save = NULL, *d;

	if (!name || !*name)
		return NULL;
	if (strchr(name, '/')) {
		if (name[0] == '~')
			p = fs_expand_home(name);
		else if (name[0] == '/' || !cwd)
			p = xstrdup(name);
		else
			p = fs_join(cwd, name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
			return p;
		free(p);
		return NULL;
	}
	if (!path_env)
		path_env = getenv("PATH");
	if (!path_env)
		path_env = "/usr/local/bin:/usr/bin:/bin";
	dirs = xstrdup(path_env);
	for (d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (!*d || d[0] != '/')
			continue; /* relative PATH entries depend on where the shell stands */
		p = fs_join(d, name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0) {
			free(dirs);
			return p;
		}
		free(p);
	}
	free(dirs);
	return NULL;
}

static bool is_builtin(const char *w)
{
	static const char *const ok[] = { ":", "cd", "false", "pwd", "test", "true", NULL };

	return key_in(w, ok);
}

/* NAME=value as a first word: an environment prefix, which changes what runs. */
static bool is_assignment(const char *raw, size_t len)
{
	size_t i;

	if (!len || !(isalpha((unsigned char)raw[0]) || raw[0] == '_'))
		return false;
	for (i = 0; i < len && (isalnum((unsigned char)raw[i]) || raw[i] == '_'); i++)
		;
	return i < len && raw[i] == '=';
}

struct lexer {
	struct apf_analysis *a;
	struct buf word;
	bool in_word;
	size_t word_start; /* offset of the word's first raw char */
	char **argv;
	size_t argc, cap;
};

static int lex_fail(struct lexer *L, const char *why)
{
	snprintf(L->a->why, sizeof(L->a->why), "%s", why);
	return -1;
}

static int lex_end_word(struct lexer *L, const char *cmd, size_t end)
{
	if (!L->in_word)
		return 0;
	if (L->argc == 0 && is_assignment(cmd + L->word_start, end - L->word_start))
		return lex_fail(L, "environment assignment");
	if (L->argc + 2 > APF_MAX_ARGS)
		return lex_fail(L, "too many arguments");
	if (L->argc + 2 > L->cap) {
		L->cap = L->cap ? L->cap * 2 : 8;
		L->argv = xrealloc(L->argv, L->cap * sizeof(*L->argv));
	}
	L->argv[L->argc++] = xstrndup(L->word.p ? L->word.p : "", L->word.len);
	L->argv[L->argc] = NULL;
	buf_reset(&L->word);
	L->in_word = false;
	return 0;
}

static int lex_end_segment(struct lexer *L)
{
	struct apf_analysis *a = L->a;
	struct apf_segment *s;

	if (!L->argc)
		return lex_fail(L, "empty command");
	if (a->nseg >= APF_MAX_SEGMENTS)
		return lex_fail(L, "too many commands");
	a->seg = xrealloc(a->seg, (a->nseg + 1) * sizeof(*a->seg));
	s = &a->seg[a->nseg++];
	memset(s, 0, sizeof(*s));
	s->argv = L->argv;
	s->argc = L->argc;
	L->argv = NULL;
	L->argc = L->cap = 0;
	return 0;
}

static int lex_char(struct lexer *L, size_t at, char c)
{
	if (!L->in_word) {
		L->in_word = true;
		L->word_start = at;
	}
	return buf_append(&L->word, &c, 1);
}

static int lex(struct lexer *L, const char *cmd)
{
	size_t i = 0, n = strlen(cmd);

	while (i < n) {
		char c = cmd[i];

		if (c == ' ' || c == '\t') {
			if (lex_end_word(L, cmd, i))
				return -1;
			i++;
			continue;
		}
		if (c == ';' || c == '|' || (c == '&' && cmd[i + 1] == '&')) {
			if (lex_end_word(L, cmd, i))
				return -1;
			if (c == '|' && cmd[i + 1] == '&')
				return lex_fail(L, "|& redirection");
			if (lex_end_segment(L))
				return -1;
			i += (c != ';' && cmd[i + 1] == c) ? 2 : 1;
			continue;
		}
		switch (c) {
		case '\n':
		case '\r':
			return lex_fail(L, "multiple lines");
		case '$':
		case '`':
			return lex_fail(L, "shell expansion");
		case '<':
		case '>':
			return lex_fail(L, "redirection");
		case '(':
		case ')':
		case '{':
		case '}':
			return lex_fail(L, "subshell or group");
		case '&':
			return lex_fail(L, "background job");
		case '*':
		case '?':
		case '[':
			return lex_fail(L, "glob");
		case '#':
			if (!L->in_word)
				return lex_fail(L, "comment");
			break;
		case '~':
			/* ~ expands at a word's start; only the executable may use it */
			if (!L->in_word && L->argc)
				return lex_fail(L, "home expansion");
			break;
		case '\\':
			if (i + 1 >= n || cmd[i + 1] == '\n')
				return lex_fail(L, "line continuation");
			if (lex_char(L, i, cmd[i + 1]) < 0)
				return lex_fail(L, "word too long");
			i += 2;
			continue;
		case '\'': {
			const char *q = strchr(cmd + i + 1, '\'');
			if (!q)
				return lex_fail(L, "unterminated quote");
			if (!L->in_word) {
				L->in_word = true;
				L->word_start = i;
			}
			if (buf_append(&L->word, cmd + i + 1, (size_t)(q - cmd - i - 1)) < 0)
				return lex_fail(L, "word too long");
			i = (size_t)(q - cmd) + 1;
			continue;
		}
		case '"': {
			size_t j = i + 1;
			if (!L->in_word) {
				L->in_word = true;
				L->word_start = i;
			}
			for (; j < n && cmd[j] != '"'; j++) {
				char d = cmd[j];
				if (d == '$' || d == '`')
					return lex_fail(L, "shell expansion");
				if (d == '\\' && j + 1 < n && strchr("$`\"\\\n", cmd[j + 1])) {
					if (cmd[j + 1] == '\n')
						return lex_fail(L, "line continuation");
					d = cmd[++j];
				}
				if (buf_append(&L->word, &d, 1) < 0)
					return lex_fail(L, "word too long");
			}
			if (j >= n)
				return lex_fail(L, "unterminated quote");
			i = j + 1;
			continue;
		}
		default:
			break;
		}
		if (lex_char(L, i, c) < 0)
			return lex_fail(L, "word too long");
		i++;
	}
	if (lex_end_word(L, cmd, n))
		return -1;
	return lex_end_segment(L);
}

void apf_analyze(const char *command, const char *cwd, const char *path_env,
		 struct apf_analysis *out)
{
	struct lexer L = { .a = out };
	int r;

	memset(out, 0, sizeof(*out));
	if (!command || strlen(command) > APF_MAX_COMMAND) {
		snprintf(out->why, sizeof(out->why), "command too long");
		return;
	}
	buf_init(&L.word, APF_MAX_COMMAND);
	r = lex(&L, command);
	buf_release(&L.word);
	for (size_t i = 0; i < L.argc; i++)
		free(L.argv[i]);
	free(L.argv);
	if (r < 0) {
		for (size_t i = 0; i < out->nseg; i++)
			seg_release(&out->seg[i]);
		free(out->seg);
		out->seg = NULL;
		out->nseg = 0;
		return;
	}
	for (size_t i = 0; i < out->nseg; i++) {
		struct apf_segment *s = &out->seg[i];
		char real[PATH_MAX];

		s->builtin = is_builtin(s->argv[0]);
		if (s->builtin)
			continue;
		s->resolved = apf_which(s->argv[0], cwd, path_env);
		if (s->resolved && realpath(s->resolved, real))
			s->resolved_real = xstrdup(real);
	}
	out->ok = true;
}

/* ---- glob ---- */

static bool glob_rec(const char *p, const char *t)
{
	for (; *p; p++) {
		if (*p == '*') {
			if (p[1] == '*') {
				p += 2;
				for (;; t++) {
					if (glob_rec(p, t))
						return true;
					if (!*t)
						return false;
				}
			}
			p++;
			for (;; t++) {
				if (glob_rec(p, t))
					return true;
				if (!*t || *t == '/')
					return false;
			}
		}
		if (*p == '?') {
			if (!*t || *t == '/')
				return false;
			t++;
			continue;
		}
		if (*p != *t)
			return false;
		t++;
	}
	return !*t;
}

/* Collapse ., .. and repeated slashes in an absolute path. New string. */
static char *path_normalize(const char *path)
{
	size_t n = strlen(path), len = 0;
	char *out = xmalloc(n + 2);
	const char *p = path;

	out[0] = '\0';
	while (*p) {
		const char *e;
		size_t l;
		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		l = e ? (size_t)(e - p) : strlen(p);
		if (l == 1 && p[0] == '.') {
			/* nothing */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			out[len] = '\0';
		} else {
			out[len++] = '/';
			memcpy(out + len, p, l);
			len += l;
			out[len] = '\0';
		}
		p += l;
	}
	if (!len) {
		out[0] = path[0] == '/' ? '/' : '.';
		out[1] = '\0';
	}
	return out;
}

bool apf_glob_match(const char *pattern, const char *target)
{
	char *pat, *tgt = NULL;
	const char *p = pattern;
	size_t len;
	bool r;

	while (isspace((unsigned char)*p))
		p++;
	len = strlen(p);
	while (len && isspace((unsigned char)p[len - 1]))
		len--;
	if (!len || !target)
		return false;
	pat = xstrndup(p, len);
	if (pat[0] == '~') {
		char *e = fs_expand_home(pat);
		free(pat);
		pat = e;
	}
	if (strpbrk(pat, "*?") && target[0] == '/' &&
	    (strstr(target, "/./") || strstr(target, "/../") || str_ends_with(target, "/.") ||
	     str_ends_with(target, "/..")))
		tgt = path_normalize(target);
	r = glob_rec(pat, tgt ? tgt : target);
	free(tgt);
	free(pat);
	return r;
}

/* ---- hashes ---- */

char *apf_cwd_argv_pattern(char *const *argv, size_t argc, const char *cwd)
{
	struct buf b;
	char *ncwd = path_normalize(cwd && *cwd ? cwd : "/");
	char hex[2 * CRYPTO_SHA256_LEN + 1], *r;

	/* cwd is normalized like path.posix.normalize (no trailing slash but for "/") */
	buf_init(&b, (size_t)-1);
	buf_printf(&b, "%zu", strlen(ncwd));
	buf_append(&b, "", 1);
	buf_append(&b, ncwd, strlen(ncwd));
	buf_append(&b, "", 1);
	buf_printf(&b, "%zu", argc ? argc - 1 : 0);
	buf_append(&b, "", 1);
	for (size_t i = 1; i < argc; i++) {
		buf_printf(&b, "%zu", strlen(argv[i]));
		buf_append(&b, "", 1);
		buf_append(&b, argv[i], strlen(argv[i]));
		buf_append(&b, "", 1);
	}
	crypto_sha256_hex(b.p, b.len, hex);
	r = xasprintf("sha256:cwd-argv:v1:%s", hex);
	buf_release(&b);
	free(ncwd);
	return r;
}

static char *trim_dup(const char *s)
{
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return xstrndup(s, len);
}

char *apf_command_pattern(const char *command)
{
	char *t = trim_dup(command);
	char hex[2 * CRYPTO_SHA256_LEN + 1];

	crypto_sha256_hex(t, strlen(t), hex);
	free(t);
	return xasprintf("=command:%.16s", hex);
}

bool apf_has_durable_command(const json_t *allowlist, const char *command)
{
	char *pat, *t;
	json_t *e;
	size_t i;
	bool r = false;

	if (!command)
		return false;
	t = trim_dup(command);
	if (!*t) {
		free(t);
		return false;
	}
	pat = apf_command_pattern(t);
	json_array_foreach(allowlist, i, e)
	{
		const char *src = json_string_value(json_object_get(e, "source"));
		const char *p = json_string_value(json_object_get(e, "pattern"));
		const char *ct = json_string_value(json_object_get(e, "commandText"));
		if (!src || strcmp(src, "allow-always"))
			continue;
		if ((p && !strcmp(p, pat)) || (ct && !strcmp(ct, t))) {
			r = true;
			break;
		}
	}
	free(pat);
	free(t);
	return r;
}

/* ---- matching ---- */

static bool has_path_selector(const char *s)
{
	return strpbrk(s, "/\\~") != NULL;
}

/* An argPattern regex (not a generated hash) against the args joined by spaces. */
static bool arg_regex_match(const char *re, const struct apf_segment *seg)
{
	regex_t rx;
	struct buf b;
	bool r;

	if (str_starts_with(re, "sha256:"))
		return false;
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB))
		return false;
	buf_init(&b, APF_MAX_COMMAND * 2);
	for (size_t i = 1; i < seg->argc; i++) {
		if (i > 1)
			buf_puts(&b, " ");
		buf_puts(&b, seg->argv[i]);
	}
	r = regexec(&rx, b.p ? b.p : "", 0, NULL, 0) == 0;
	buf_release(&b);
	regfree(&rx);
	return r;
}

json_t *apf_match(const json_t *allowlist, const struct apf_segment *seg, const char *cwd)
{
	const char *trust;
	json_t *e, *path_only = NULL;
	char *hash = NULL, *base;
	size_t i;

	json_array_foreach(allowlist, i, e)
	{
		const char *p = json_string_value(json_object_get(e, "pattern"));
		const char *src = json_string_value(json_object_get(e, "source"));
		char *t;
		if (!p || json_object_get(e, "argPattern") || (src && !strcmp(src, "allow-always")))
			continue;
		t = trim_dup(p);
		if (!strcmp(t, "*")) {
			free(t);
			return e; /* a bare "*" lets anything run */
		}
		free(t);
	}
	if (!seg->resolved)
		return NULL;
	trust = seg->resolved_real ? seg->resolved_real : seg->resolved;
	base = strrchr(seg->resolved, '/') ? strrchr(seg->resolved, '/') + 1 : seg->resolved;
	json_array_foreach(allowlist, i, e)
	{
		const char *p = json_string_value(json_object_get(e, "pattern"));
		const char *src = json_string_value(json_object_get(e, "source"));
		const char *ap = json_string_value(json_object_get(e, "argPattern"));
		bool always = src && !strcmp(src, "allow-always"), hit;
		char *t;

		if (!p)
			continue;
		t = trim_dup(p);
		if (!*t || (!has_path_selector(t) && !strcmp(t, "*"))) {
			free(t);
			continue;
		}
		if (has_path_selector(t))
			hit = apf_glob_match(t, trust);
		else
			/* a bare name matches the executable's name, if it was named bare too */
			hit = !has_path_selector(seg->argv[0]) && apf_glob_match(t, base);
		free(t);
		if (!hit)
			continue;
		if (!ap || !*ap) {
			if (!always && !path_only)
				path_only = e;
			continue;
		}
		if (str_starts_with(ap, "sha256:cwd-argv:v1:")) {
			if (!cwd)
				continue;
			if (!hash)
				hash = apf_cwd_argv_pattern(seg->argv, seg->argc, cwd);
			if (!strcmp(ap, hash)) {
				free(hash);
				return e;
			}
		} else if (!always && arg_regex_match(ap, seg)) {
			free(hash);
			return e;
		}
	}
	free(hash);
	return path_only;
}

bool apf_allowlist_satisfied(const json_t *allowlist, const struct apf_analysis *a, const char *cwd,
			     json_t *matches)
{
	bool all = a->ok && a->nseg > 0;

	for (size_t i = 0; a->ok && i < a->nseg; i++) {
		json_t *m;
		if (a->seg[i].builtin)
			continue;
		m = apf_match(allowlist, &a->seg[i], cwd);
		if (!m) {
			all = false;
			continue;
		}
		if (matches)
			json_array_append(matches, m);
	}
	return all;
}

/*
 * Executables that run whatever their arguments say: an allow-always for
 * `bash -c x` or `python3 -c x` would be a blank cheque, so OpenClaw does
 * not persist one for them.
 */
static bool is_interpreter(const char *path)
{
	static const char *const names[] = {
		"sh",      "bash",   "zsh",  "dash",    "ksh",  "fish",       "csh",
		"tcsh",    "python", "node", "nodejs",  "deno", "bun",        "perl",
		"ruby",    "php",    "lua",  "luajit",  "pwsh", "powershell", "osascript",
		"env",     "sudo",   "doas", "xargs",   "find", "nice",       "nohup",
		"timeout", "exec",   "eval", "busybox", NULL
	};
	const char *b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	for (size_t i = 0; names[i]; i++) {
		size_t n = strlen(names[i]);
		/* python3, python3.11, node20 ... */
		if (!strncmp(b, names[i], n) &&
		    (!b[n] || isdigit((unsigned char)b[n]) || b[n] == '.' || b[n] == '-'))
			return true;
	}
	return false;
}

json_t *apf_allow_always_entries(const struct apf_analysis *a, const char *cwd)
{
	json_t *out;

	if (!a->ok || !a->nseg || !cwd)
		return NULL;
	out = json_array();
	for (size_t i = 0; i < a->nseg; i++) {
		const struct apf_segment *s = &a->seg[i];
		const char *trust = s->resolved_real ? s->resolved_real : s->resolved;
		char *ap;
		if (s->builtin)
			continue;
		if (!trust || is_interpreter(trust)) {
			json_decref(out);
			return NULL;
		}
		ap = apf_cwd_argv_pattern(s->argv, s->argc, cwd);
		json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "pattern", trust,
						     "argPattern", ap, "source", "allow-always"));
		free(ap);
	}
	if (!json_array_size(out)) {
		json_decref(out);
		return NULL;
	}
	return out;
}

bool apf_add_entries(json_t *doc, const char *agent_id, const json_t *entries, int64_t now_ms)
{
	json_t *agents = json_object_get(doc, "agents"), *agent, *list, *e, *x;
	size_t i, j;
	bool changed = false;

	if (!json_is_object(agents)) {
		agents = json_object();
		json_object_set_new(doc, "agents", agents);
	}
	agent = json_object_get(agents, agent_id);
	if (!json_is_object(agent)) {
		agent = json_object();
		json_object_set_new(agents, agent_id, agent);
	}
	list = json_object_get(agent, "allowlist");
	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(agent, "allowlist", list);
	}
	json_array_foreach(entries, i, e)
	{
		const char *p = json_string_value(json_object_get(e, "pattern"));
		const char *ap = json_string_value(json_object_get(e, "argPattern"));
		const char *src = json_string_value(json_object_get(e, "source"));
		bool found = false;
		json_array_foreach(list, j, x)
		{
			const char *xp = json_string_value(json_object_get(x, "pattern"));
			const char *xap = json_string_value(json_object_get(x, "argPattern"));
			if (xp && !strcmp(xp, p) && str_eq(xap, ap)) {
				found = true;
				if (src &&
				    !str_eq(json_string_value(json_object_get(x, "source")), src)) {
					json_object_set_new(x, "source", json_string(src));
					json_object_set_new(x, "lastUsedAt", json_integer(now_ms));
					changed = true;
				}
				break;
			}
		}
		if (!found) {
			char id[37];
			json_t *n;
			id_uuid(id);
			n = json_pack("{s:s, s:s}", "id", id, "pattern", p);
			if (ap)
				json_object_set_new(n, "argPattern", json_string(ap));
			if (src)
				json_object_set_new(n, "source", json_string(src));
			json_object_set_new(n, "lastUsedAt", json_integer(now_ms));
			json_array_append_new(list, n);
			changed = true;
		}
	}
	return changed;
}

bool apf_record_use(json_t *doc, const char *agent_id, const json_t *matches, const char *command,
		    const char *resolved_path, int64_t now_ms)
{
	const char *keys[2] = { "*", agent_id };
	json_t *agents = json_object_get(doc, "agents");
	bool changed = false;

	for (size_t k = 0; k < 2; k++) {
		json_t *list, *e, *m;
		size_t i, j;
		if (!keys[k] || (k == 1 && !strcmp(keys[k], "*")))
			continue;
		list = json_object_get(json_object_get(agents, keys[k]), "allowlist");
		json_array_foreach(list, i, e)
		{
			const char *p = json_string_value(json_object_get(e, "pattern"));
			const char *ap = json_string_value(json_object_get(e, "argPattern"));
			json_array_foreach(matches, j, m)
			{
				if (!str_eq(p, json_string_value(json_object_get(m, "pattern"))) ||
				    !str_eq(ap,
					    json_string_value(json_object_get(m, "argPattern"))))
					continue;
				json_object_set_new(e, "lastUsedAt", json_integer(now_ms));
				/* a generated hash entry binds the argv; naming it again adds nothing */
				if (ap && str_starts_with(ap, "sha256:"))
					json_object_del(e, "lastUsedCommand");
				else if (command)
					json_object_set_new(e, "lastUsedCommand",
							    json_string(command));
				if (resolved_path)
					json_object_set_new(e, "lastResolvedPath",
							    json_string(resolved_path));
				else
					json_object_del(e, "lastResolvedPath");
				changed = true;
				break;
			}
		}
	}
	return changed;
}
