/*
 * approvals.c - `pincer approvals get|set|allowlist add|remove`: the exec
 * approvals policy (exec-approvals.json), as OpenClaw's `openclaw
 * approvals` edits it: the local file by default, the running gateway's
 * with --gateway (exec.approvals.get/set with a base hash).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "config/paths.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/json5.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "tools/approvals_file.h"

const char cmd_approvals_usage[] =
	"usage: pincer approvals get [--gateway] [--json]\n"
	"   or: pincer approvals set --file PATH | --stdin [--gateway]\n"
	"   or: pincer approvals allowlist add|remove PATTERN [--agent ID] [--gateway]\n"
	"\n"
	"Exec approvals decide which commands the exec tool may run on this host\n"
	"(security deny|allowlist|full, ask off|on-miss|always, askFallback) and\n"
	"hold the allowlist of executable patterns (~ and ** work). The file is\n"
	"<state dir>/exec-approvals.json; --gateway edits the running gateway's\n"
	"instead, through the exec.approvals.* methods. The stricter of this file\n"
	"and tools.exec in the config applies.\n"
	"\n" CMD_GW_CONN_HELP;

static const char *const ap_scopes[] = { "operator.admin", NULL };

/* Where the policy comes from and goes to. */
struct ap_target {
	bool gateway;
	struct cmd_gw_conn c;
	char *path;
	json_t *file; /* normalized document */
	bool exists;
	char hash[APF_HASH_LEN];
	json_t *resolved_defaults;
};

static void ap_target_release(struct ap_target *t)
{
	free(t->path);
	json_decref(t->file);
	json_decref(t->resolved_defaults);
}

static int ap_load(struct ctx *ctx, struct ap_target *t)
{
	if (t->gateway) {
		struct gw_target gt;
		json_t *p = NULL;
		int r = cmd_gw_call1(ctx, &t->c, &gt, "exec.approvals.get", json_object(),
				     ap_scopes, &p);
		gw_target_release(&gt);
		if (r)
			return r;
		t->path = xstrdup(json_string_value(json_object_get(p, "path"))
					  ? json_string_value(json_object_get(p, "path"))
					  : "");
		t->exists = json_is_true(json_object_get(p, "exists"));
		snprintf(t->hash, sizeof(t->hash), "%s",
			 json_string_value(json_object_get(p, "hash"))
				 ? json_string_value(json_object_get(p, "hash"))
				 : "");
		t->file = json_incref(json_object_get(p, "file"));
		t->resolved_defaults = json_incref(json_object_get(p, "resolvedDefaults"));
		json_decref(p);
		if (!json_is_object(t->file))
			return cli_error("the gateway returned no approvals file");
		return 0;
	} else {
		struct apf_snapshot s;
		t->path = apf_path(cli_paths(ctx)->state_dir);
		apf_load(t->path, &s);
		if (s.malformed) {
			fprintf(stderr,
				"pincer: %s is invalid (%s); exec is denied until it is fixed\n",
				t->path, s.err);
		}
		t->exists = s.exists;
		memcpy(t->hash, s.hash, sizeof(t->hash));
		t->file = json_incref(s.file);
		t->resolved_defaults = apf_resolved_defaults(s.file);
		apf_snapshot_release(&s);
		return 0;
	}
}

/* Save `doc` where it came from, refusing when it changed meanwhile (base hash). */
static int ap_save(struct ctx *ctx, struct ap_target *t, json_t *doc)
{
	char err[256];

	if (t->gateway) {
		struct gw_target gt;
		json_t *p = NULL, *params = json_pack("{s:O}", "file", doc);
		int r;
		if (t->exists)
			json_object_set_new(params, "baseHash", json_string(t->hash));
		r = cmd_gw_call1(ctx, &t->c, &gt, "exec.approvals.set", params, ap_scopes, &p);
		gw_target_release(&gt);
		json_decref(p);
		return r;
	} else {
		char *lock = xasprintf("%s.lock", t->path), *dir = fs_dirname(t->path);
		struct apf_snapshot s;
		int fd, r = 0;
		fs_mkdir_p(dir, 0700);
		free(dir);
		fd = fs_lock(lock, 2000);
		free(lock);
		if (fd < 0)
			return cli_error("cannot lock %s: %s", t->path, strerror(errno));
		apf_load(t->path, &s);
		if (strcmp(s.hash, t->hash))
			r = cli_error("%s changed since it was read; run the command again",
				      t->path);
		else if (apf_validate(doc, false, err, sizeof(err)) < 0)
			r = cli_error("invalid exec approvals: %s", err);
		else if (apf_normalize(doc), apf_save(t->path, doc, NULL, err, sizeof(err)) < 0)
			r = cli_error("%s", err);
		apf_snapshot_release(&s);
		fs_unlock(fd);
		return r;
	}
}

/* ==== get ==== */

static void ap_print(const struct ap_target *t)
{
	const json_t *agents = json_object_get(t->file, "agents"), *a, *e;
	const json_t *d = t->resolved_defaults;
	const char *k;
	size_t i;

	printf("%s approvals: %s%s\n", t->gateway ? "Gateway" : "Local", t->path,
	       t->exists ? "" : " (not created yet)");
	printf("Defaults: security=%s ask=%s askFallback=%s autoAllowSkills=%s\n",
	       json_string_value(json_object_get(d, "security")),
	       json_string_value(json_object_get(d, "ask")),
	       json_string_value(json_object_get(d, "askFallback")),
	       json_is_true(json_object_get(d, "autoAllowSkills")) ? "true" : "false");
	if (!json_object_size(agents))
		printf("Agents: none\n");
	json_object_foreach((json_t *)agents, k, a)
	{
		const json_t *l = json_object_get(a, "allowlist");
		printf("Agent %s:", k);
		if (json_string_value(json_object_get(a, "security")))
			printf(" security=%s", json_string_value(json_object_get(a, "security")));
		if (json_string_value(json_object_get(a, "ask")))
			printf(" ask=%s", json_string_value(json_object_get(a, "ask")));
		if (json_string_value(json_object_get(a, "askFallback")))
			printf(" askFallback=%s",
			       json_string_value(json_object_get(a, "askFallback")));
		printf(" (%zu allowlist entr%s)\n", json_array_size(l),
		       json_array_size(l) == 1 ? "y" : "ies");
		json_array_foreach(l, i, e)
		{
			const char *src = json_string_value(json_object_get(e, "source"));
			json_int_t used = json_integer_value(json_object_get(e, "lastUsedAt"));
			char when[40] = "never";
			if (used > 0)
				time_iso8601(used, when, sizeof(when));
			printf("  %s%s%s  last used %s\n",
			       json_string_value(json_object_get(e, "pattern")),
			       json_object_get(e, "argPattern") ? " (these args, this dir)" : "",
			       src ? " [allow-always]" : "", when);
		}
	}
}

static int ap_get(int argc, char **argv, struct ctx *ctx)
{
	struct ap_target t = { .c = { .port = LLONG_MIN, .timeout = LLONG_MIN } };
	bool json = false;
	const struct opt opts[] = {
		{ OPT_FLAG, "gateway", 0, &t.gateway, NULL, "the running gateway's approvals" },
		{ OPT_FLAG, "json", 0, &json, NULL, "print the snapshot as JSON" },
		CMD_GW_CONN_OPTS(t.c),
		{ OPT_END },
	};
	int n = cli_parse(ctx, argc, argv, opts), r;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	if ((r = ap_load(ctx, &t))) {
		ap_target_release(&t);
		return r;
	}
	if (json) {
		json_t *file = json_deep_copy(t.file), *sock = json_object_get(file, "socket");
		/* the socket token is a credential: never printed */
		if (json_is_object(sock)) {
			json_object_del(sock, "token");
			if (!json_object_size(sock))
				json_object_del(file, "socket");
		}
		json_t *out = json_pack("{s:s, s:b, s:s, s:o, s:O}", "path", t.path, "exists",
					t.exists, "hash", t.hash, "file", file, "resolvedDefaults",
					t.resolved_defaults);
		cmd_gw_print_json(out, false);
		json_decref(out);
	} else {
		ap_print(&t);
	}
	ap_target_release(&t);
	return 0;
}

/* ==== set ==== */

static char *ap_read_all(FILE *fp, size_t max)
{
	struct buf b;
	char chunk[4096];
	size_t n;

	buf_init(&b, max);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(&b, chunk, n) < 0) {
			buf_release(&b);
			return NULL;
		}
	buf_putc(&b, '\0');
	return buf_detach(&b, NULL);
}

static int ap_set(int argc, char **argv, struct ctx *ctx)
{
	struct ap_target t = { .c = { .port = LLONG_MIN, .timeout = LLONG_MIN } };
	const char *file = NULL;
	bool use_stdin = false;
	const struct opt opts[] = {
		{ OPT_STR, "file", 0, &file, "PATH", "JSON (or JSON5) file to install" },
		{ OPT_FLAG, "stdin", 0, &use_stdin, NULL, "read the JSON from stdin" },
		{ OPT_FLAG, "gateway", 0, &t.gateway, NULL, "the running gateway's approvals" },
		CMD_GW_CONN_OPTS(t.c),
		{ OPT_END },
	};
	struct json5_error je;
	char *text = NULL;
	json_t *doc = NULL;
	int n = cli_parse(ctx, argc, argv, opts), r;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	if (!file && !use_stdin)
		return cli_usage_error(ctx, "Provide --file or --stdin.");
	if (file && use_stdin)
		return cli_usage_error(ctx, "Use either --file or --stdin (not both).");
	if (use_stdin) {
		text = ap_read_all(stdin, APF_MAX_BYTES);
	} else {
		FILE *fp = fopen(file, "r");
		if (!fp)
			return cli_error("cannot read %s: %s", file, strerror(errno));
		text = ap_read_all(fp, APF_MAX_BYTES);
		fclose(fp);
	}
	if (!text)
		return cli_error("exec approvals input is too large");
	doc = json5_parse(text, strlen(text), file ? file : "stdin", NULL, &je);
	free(text);
	if (!doc)
		return cli_error("Failed to parse approvals JSON: %d:%d: %s", je.line, je.col,
				 je.text);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return cli_error("Exec approvals JSON must be an object.");
	}
	json_object_set_new(doc, "version", json_integer(1));
	if ((r = ap_load(ctx, &t)) == 0 && (r = ap_save(ctx, &t, doc)) == 0)
		printf("Exec approvals saved%s%s.\n", t.gateway ? " on the gateway" : " to ",
		       t.gateway ? "" : t.path);
	json_decref(doc);
	ap_target_release(&t);
	return r;
}

/* ==== allowlist add|remove ==== */

static const char *entry_pattern(const json_t *e)
{
	return json_is_string(e) ? json_string_value(e)
				 : json_string_value(json_object_get(e, "pattern"));
}

static int ap_allowlist(int argc, char **argv, struct ctx *ctx, bool add)
{
	struct ap_target t = { .c = { .port = LLONG_MIN, .timeout = LLONG_MIN } };
	const char *agent_key = NULL;
	const struct opt opts[] = {
		{ OPT_STR, "agent", 0, &agent_key, "ID", "agent id (default \"*\": every agent)" },
		{ OPT_FLAG, "gateway", 0, &t.gateway, NULL, "the running gateway's approvals" },
		CMD_GW_CONN_OPTS(t.c),
		{ OPT_END },
	};
	json_t *doc, *agents, *agent, *list, *e;
	const char *pattern;
	char *trimmed;
	size_t i, len;
	int n = cli_parse(ctx, argc, argv, opts), r, found = -1;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n != 1)
		return cli_usage_error(ctx, "expected one pattern");
	pattern = argv[0];
	while (*pattern == ' ' || *pattern == '\t')
		pattern++;
	len = strlen(pattern);
	while (len && (pattern[len - 1] == ' ' || pattern[len - 1] == '\t'))
		len--;
	if (!len)
		return cli_usage_error(ctx, "Pattern required.");
	if (agent_key && !*agent_key)
		return cli_usage_error(ctx, "--agent must not be blank");
	if (!agent_key)
		agent_key = "*";
	if ((r = ap_load(ctx, &t))) {
		ap_target_release(&t);
		return r;
	}
	trimmed = xstrndup(pattern, len);
	doc = json_deep_copy(t.file);
	agents = json_object_get(doc, "agents");
	agent = json_object_get(agents, agent_key);
	if (!json_is_object(agent)) {
		agent = json_object();
		json_object_set_new(agents, agent_key, agent);
	}
	list = json_object_get(agent, "allowlist");
	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(agent, "allowlist", list);
	}
	json_array_foreach(list, i, e) if (entry_pattern(e) && !strcmp(entry_pattern(e), trimmed))
		found = (int)i;
	if (add && found >= 0) {
		printf("Already allowlisted.\n");
		goto done;
	}
	if (!add && found < 0) {
		printf("Pattern not found.\n");
		goto done;
	}
	if (add) {
		json_array_append_new(list, json_pack("{s:s, s:I}", "pattern", trimmed,
						      "lastUsedAt", (json_int_t)time_now_ms()));
	} else {
		json_array_remove(list, (size_t)found);
		if (!json_array_size(list))
			json_object_del(agent, "allowlist");
	}
	/* an agent left with nothing is dropped, as OpenClaw does */
	if (!json_object_size(agent))
		json_object_del(agents, agent_key);
	if ((r = ap_save(ctx, &t, doc)) == 0)
		printf("%s %s %s allowlist of agent %s.\n", add ? "Added" : "Removed", trimmed,
		       add ? "to the" : "from the", agent_key);
done:
	free(trimmed);
	json_decref(doc);
	ap_target_release(&t);
	return r;
}

static int ap_allowlist_add(int argc, char **argv, struct ctx *ctx)
{
	return ap_allowlist(argc, argv, ctx, true);
}

static int ap_allowlist_remove(int argc, char **argv, struct ctx *ctx)
{
	return ap_allowlist(argc, argv, ctx, false);
}

const struct cmd cmd_approvals_allowlist_sub[] = {
	{ "add", ap_allowlist_add, "add a glob pattern to an allowlist",
	  "usage: pincer approvals allowlist add PATTERN [--agent ID] [--gateway]\n", NULL },
	{ "remove", ap_allowlist_remove, "remove a glob pattern from an allowlist",
	  "usage: pincer approvals allowlist remove PATTERN [--agent ID] [--gateway]\n", NULL },
	{ NULL },
};

const struct cmd cmd_approvals_sub[] = {
	{ "get", ap_get, "show the exec approvals policy",
	  "usage: pincer approvals get [--gateway] [--json] [connection options]\n", NULL },
	{ "set", ap_set, "replace the exec approvals policy with a JSON file",
	  "usage: pincer approvals set --file PATH | --stdin [--gateway] [connection options]\n",
	  NULL },
	{ "allowlist", NULL, "edit the per-agent allowlist",
	  "usage: pincer approvals allowlist add|remove PATTERN [--agent ID] [--gateway]\n",
	  cmd_approvals_allowlist_sub },
	{ NULL },
};
