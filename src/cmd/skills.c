/*
 * skills.c - `pincer skills list|info|check`: what skills an agent has and
 * why some are not ready, computed locally from the config and workspace
 * (no gateway needed), with OpenClaw's JSON shapes under --json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/workspace.h"
#include "cmd/cmd.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/str.h"
#include "skills/skills.h"

const char cmd_skills_usage[] =
	"usage: pincer skills <command> [--json] [--agent ID]\n"
	"\n"
	"Show the skills an agent can use: folders with a SKILL.md, from (lowest to\n"
	"highest precedence) skills.load.extraDirs, the bundled skills, <state>/skills,\n"
	"~/.agents/skills, <workspace>/.agents/skills and <workspace>/skills. A skill\n"
	"is ready when its requirements (binaries, environment, config, OS) are met.\n"
	"Works from the config and the workspace; no gateway is needed.\n"
	"With no command, lists the skills.\n";

struct sk_opts {
	bool json, eligible, verbose;
	const char *agent;
};

/* Load config and skills for --agent (else the default agent). 0, or the exit code. */
static int sk_load(struct ctx *ctx, const struct sk_opts *o, struct config *cfg,
		   struct skill_set *set)
{
	const struct paths *paths = cli_paths(ctx);
	struct buf errs;
	char *agent, *ws, *managed;
	struct log_opts lo;

	log_opts_default(&lo);
	lo.console_level = LOG_ERROR; /* invalid skills are reported below, not logged */
	log_setup(&lo);
	buf_init(&errs, 1 << 20);
	config_init(cfg);
	if (config_open(cfg, paths, &errs) < 0) {
		fprintf(stderr, "pincer: invalid config %s:\n%s", paths->config_path, errs.p);
		buf_release(&errs);
		return 1;
	}
	buf_release(&errs);
	agent = o->agent ? xstrdup(o->agent) : workspace_default_agent_id(cfg);
	if (o->agent && !workspace_agent_entry(cfg, agent) &&
	    json_array_size(config_get(cfg, "agents.list")) > 0) {
		fprintf(stderr, "pincer skills: unknown agent '%s'\n", agent);
		free(agent);
		return EXIT_USAGE;
	}
	ws = workspace_dir(cfg, paths, agent);
	managed = fs_join(paths->state_dir, "skills");
	skills_load(set, cfg, ws, managed, agent);
	free(agent);
	free(ws);
	free(managed);
	return 0;
}

static const char *sk_status(const json_t *s, bool detailed)
{
	if (json_is_true(json_object_get(s, "disabled")))
		return detailed ? "disabled" : "disabled";
	if (json_is_true(json_object_get(s, "blockedByAllowlist")))
		return detailed ? "blocked by allowlist" : "blocked";
	if (json_is_true(json_object_get(s, "blockedByAgentFilter")))
		return detailed ? "excluded by agent allowlist" : "excluded";
	if (json_is_true(json_object_get(s, "eligible")))
		return "ready";
	return "needs setup";
}

static void sk_missing_summary(struct buf *b, const json_t *missing)
{
	static const char *const keys[] = { "bins", "anyBins", "env", "config", "os" };

	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
		const json_t *arr = json_object_get(missing, keys[k]), *x;
		size_t i;

		if (!json_array_size(arr))
			continue;
		buf_printf(b, "%s%s: ", b->len ? "; " : "", keys[k]);
		json_array_foreach(arr, i, x)
			buf_printf(b, "%s%s", i ? ", " : "", json_string_value(x));
	}
}

static void sk_print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s)
		puts(s);
	free(s);
}

static bool sk_ready(const json_t *s)
{
	return json_is_true(json_object_get(s, "eligible")) &&
	       !json_is_true(json_object_get(s, "blockedByAgentFilter"));
}

static int sk_list(struct ctx *ctx, const struct sk_opts *o)
{
	static const char *const keep[] = {
		"name",
		"description",
		"emoji",
		"eligible",
		"disabled",
		"blockedByAllowlist",
		"blockedByAgentFilter",
		"modelVisible",
		"userInvocable",
		"commandVisible",
		"source",
		"bundled",
		"primaryEnv",
		"homepage",
		"missing",
	};
	struct skill_set set;
	struct config cfg;
	json_t *st, *s, *arr = json_array();
	size_t i, nready = 0, w = 5;
	int r = sk_load(ctx, o, &cfg, &set);

	if (r)
		return r;
	st = skills_status_json(&set);
	json_array_foreach(json_object_get(st, "skills"), i, s)
	{
		json_t *row;

		if (o->eligible && !sk_ready(s))
			continue;
		row = json_object();
		for (size_t k = 0; k < ARRAY_SIZE(keep); k++)
			if (json_object_get(s, keep[k]))
				json_object_set(row, keep[k], json_object_get(s, keep[k]));
		json_array_append_new(arr, row);
		nready += sk_ready(s);
		if (strlen(json_string_value(json_object_get(s, "name"))) > w)
			w = strlen(json_string_value(json_object_get(s, "name")));
	}
	if (o->json) {
		json_t *out = json_pack("{s:O,s:O,s:O}", "workspaceDir",
					json_object_get(st, "workspaceDir"), "managedSkillsDir",
					json_object_get(st, "managedSkillsDir"), "skills", arr);

		sk_print_json(out);
		json_decref(out);
	} else if (!json_array_size(arr)) {
		puts(o->eligible ? "No eligible skills found. Run `pincer skills list` to see all "
				   "skills."
				 : "No skills found.");
	} else {
		printf("Skills (%zu/%zu ready)\n", nready, json_array_size(arr));
		printf("%-12s  %-*s  %-10s  %s\n", "STATUS", (int)w, "SKILL", "SOURCE",
		       o->verbose ? "MISSING" : "DESCRIPTION");
		json_array_foreach(arr, i, s)
		{
			struct buf b;
			const char *src = json_string_value(json_object_get(s, "source"));

			buf_init(&b, 64 * 1024);
			if (o->verbose)
				sk_missing_summary(&b, json_object_get(s, "missing"));
			else
				buf_puts(&b, json_string_value(json_object_get(s, "description")));
			if (b.len > 70 && !o->verbose) {
				buf_truncate(&b, str_utf8_prefix(b.p, 67));
				buf_puts(&b, "...");
			}
			printf("%-12s  %-*s  %-10s  %s\n", sk_status(s, false), (int)w,
			       json_string_value(json_object_get(s, "name")),
			       str_starts_with(src, "openclaw-") ? src + 9 : src, b.p);
			buf_release(&b);
		}
	}
	if (!o->json && json_array_size(set.invalid)) {
		fprintf(stderr, "\n%zu skill(s) could not be loaded:\n",
			json_array_size(set.invalid));
		json_array_foreach(set.invalid, i, s)
			fprintf(stderr, "  %s: %s\n", json_string_value(json_object_get(s, "path")),
				json_string_value(json_object_get(s, "message")));
	}
	json_decref(arr);
	json_decref(st);
	skills_release(&set);
	config_release(&cfg);
	return 0;
}

static int sk_info(struct ctx *ctx, const struct sk_opts *o, const char *name)
{
	static const char *const groups[][2] = { { "bins", "Binaries" },
						 { "anyBins", "Any binaries" },
						 { "env", "Environment" },
						 { "config", "Config" },
						 { "os", "OS" } };
	struct skill_set set;
	struct config cfg;
	json_t *st, *s, *found = NULL, *x;
	size_t i;
	int r = sk_load(ctx, o, &cfg, &set);

	if (r)
		return r;
	st = skills_status_json(&set);
	json_array_foreach(json_object_get(st, "skills"), i,
			   s) if (!strcmp(json_string_value(json_object_get(s, "name")), name))
		found = s;
	json_array_foreach(json_object_get(st, "skills"), i,
			   s) if (!found &&
				  !strcasecmp(json_string_value(json_object_get(s, "name")), name))
		found = s;
	if (!found) {
		if (o->json) {
			json_t *e = json_pack("{s:b,s:s,s:s}", "ok", 0, "error", "not found",
					      "skill", name);

			sk_print_json(e);
			json_decref(e);
		} else {
			fprintf(stderr,
				"Skill \"%s\" not found. Run `pincer skills list` to see available "
				"skills.\n",
				name);
		}
		r = 1;
		goto out;
	}
	if (o->json) {
		sk_print_json(found);
		goto out;
	}
	s = found;
	printf("%s%s%s (%s)\n\n%s\n\nDetails:\n",
	       json_string_value(json_object_get(s, "emoji"))
		       ? json_string_value(json_object_get(s, "emoji"))
		       : "",
	       json_string_value(json_object_get(s, "emoji")) ? " " : "",
	       json_string_value(json_object_get(s, "name")), sk_status(s, true),
	       json_string_value(json_object_get(s, "description")));
	printf("  Source: %s\n", json_string_value(json_object_get(s, "source")));
	printf("  Path: %s\n", json_string_value(json_object_get(s, "filePath")));
	if (json_string_value(json_object_get(s, "homepage")))
		printf("  Homepage: %s\n", json_string_value(json_object_get(s, "homepage")));
	printf("  Visible to model: %s\n",
	       json_is_true(json_object_get(s, "modelVisible")) ? "yes" : "no");
	printf("  Available as command: %s\n",
	       json_is_true(json_object_get(s, "commandVisible")) ? "yes" : "no");
	if (json_string_value(json_object_get(s, "primaryEnv")))
		printf("  Primary env: %s\n", json_string_value(json_object_get(s, "primaryEnv")));
	for (i = 0; i < ARRAY_SIZE(groups); i++) {
		json_t *req = json_object_get(json_object_get(s, "requirements"), groups[i][0]);
		json_t *miss = json_object_get(json_object_get(s, "missing"), groups[i][0]);
		size_t j;

		if (!json_array_size(req))
			continue;
		printf("  %s:", groups[i][1]);
		json_array_foreach(req, j, x)
		{
			bool ok = true;
			json_t *m;
			size_t k;

			json_array_foreach(miss, k, m) if (json_equal(m, x)) ok = false;
			printf(" %s %s", ok ? "✓" : "✗", json_string_value(x));
		}
		putchar('\n');
	}
	if (json_array_size(json_object_get(s, "install")) &&
	    !json_is_true(json_object_get(s, "eligible"))) {
		puts("\nInstall options:");
		json_array_foreach(json_object_get(s, "install"), i, x)
			printf("  -> %s\n", json_string_value(json_object_get(x, "label")));
	}
	if (json_string_value(json_object_get(s, "primaryEnv")) &&
	    json_array_size(json_object_get(json_object_get(s, "missing"), "env"))) {
		printf("\nAPI key setup:\n  pincer config set 'skills.entries[\"%s\"].apiKey' "
		       "YOUR_KEY\n",
		       json_string_value(json_object_get(s, "skillKey")));
	}
out:
	json_decref(st);
	skills_release(&set);
	config_release(&cfg);
	return r;
}

static int sk_check(struct ctx *ctx, const struct sk_opts *o)
{
	struct skill_set set;
	struct config cfg;
	json_t *st, *s, *elig = json_array(), *vis = json_array(), *cmdv = json_array(),
			*dis = json_array(), *blk = json_array(), *filt = json_array(),
			*hidden = json_array(), *miss = json_array();
	size_t i;
	int r = sk_load(ctx, o, &cfg, &set);

	if (r) {
		json_decref(elig), json_decref(vis), json_decref(cmdv), json_decref(dis);
		json_decref(blk), json_decref(filt), json_decref(hidden), json_decref(miss);
		return r;
	}
	st = skills_status_json(&set);
	json_array_foreach(json_object_get(st, "skills"), i, s)
	{
		json_t *name = json_object_get(s, "name"), *m = json_object_get(s, "missing"), *v;
		const char *k;
		bool any = false;

		if (json_is_true(json_object_get(s, "eligible")))
			json_array_append(elig, name);
		if (json_is_true(json_object_get(s, "modelVisible")))
			json_array_append(vis, name);
		if (json_is_true(json_object_get(s, "commandVisible")))
			json_array_append(cmdv, name);
		if (json_is_true(json_object_get(s, "disabled")))
			json_array_append(dis, name);
		else if (json_is_true(json_object_get(s, "blockedByAllowlist")))
			json_array_append(blk, name);
		if (json_is_true(json_object_get(s, "blockedByAgentFilter")))
			json_array_append(filt, name);
		if (sk_ready(s) && !json_is_true(json_object_get(s, "modelVisible")))
			json_array_append_new(hidden, json_pack("{s:O,s:s}", "name", name, "reason",
								"disable-model-invocation"));
		json_object_foreach(m, k, v) any |= json_array_size(v) > 0;
		if (any)
			json_array_append_new(miss,
					      json_pack("{s:O,s:O,s:O}", "name", name, "missing", m,
							"install", json_object_get(s, "install")));
	}
	if (o->json) {
		json_t *out = json_object();

		json_object_set_new(out, "agentId", json_string(set.agent_id));
		if (set.agent_filter)
			json_object_set(out, "agentSkillFilter", set.agent_filter);
		json_object_set(out, "workspaceDir", json_object_get(st, "workspaceDir"));
		json_object_set(out, "managedSkillsDir", json_object_get(st, "managedSkillsDir"));
		json_object_set_new(
			out, "summary",
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "total",
				  (json_int_t)json_array_size(json_object_get(st, "skills")),
				  "eligible", (json_int_t)json_array_size(elig), "modelVisible",
				  (json_int_t)json_array_size(vis), "commandVisible",
				  (json_int_t)json_array_size(cmdv), "disabled",
				  (json_int_t)json_array_size(dis), "blocked",
				  (json_int_t)json_array_size(blk), "agentFiltered",
				  (json_int_t)json_array_size(filt), "notInjected",
				  (json_int_t)json_array_size(hidden), "missingRequirements",
				  (json_int_t)json_array_size(miss)));
		json_object_set(out, "eligible", elig);
		json_object_set(out, "modelVisible", vis);
		json_object_set(out, "commandVisible", cmdv);
		json_object_set(out, "disabled", dis);
		json_object_set(out, "blocked", blk);
		json_object_set(out, "agentFiltered", filt);
		json_object_set(out, "notInjected", hidden);
		json_object_set(out, "missingRequirements", miss);
		json_object_set(out, "invalid", set.invalid);
		sk_print_json(out);
		json_decref(out);
	} else {
		puts("Skills Status Check");
		printf("Agent: %s\n\n", set.agent_id);
		printf("Total: %zu\n", json_array_size(json_object_get(st, "skills")));
		printf("✓ Eligible: %zu\n", json_array_size(elig));
		printf("✓ Visible to model: %zu\n", json_array_size(vis));
		printf("✓ Available as command: %zu\n", json_array_size(cmdv));
		printf("Disabled: %zu\n", json_array_size(dis));
		printf("Blocked by allowlist: %zu\n", json_array_size(blk));
		if (set.agent_filter || json_array_size(filt))
			printf("Excluded by agent allowlist: %zu\n", json_array_size(filt));
		if (json_array_size(hidden))
			printf("Ready but hidden from model prompt: %zu\n",
			       json_array_size(hidden));
		printf("✗ Missing requirements: %zu\n", json_array_size(miss));
		if (json_array_size(set.invalid))
			printf("✗ Could not be loaded: %zu\n", json_array_size(set.invalid));
		if (json_array_size(miss)) {
			puts("\nMissing requirements:");
			json_array_foreach(miss, i, s)
			{
				struct buf b;

				buf_init(&b, 64 * 1024);
				sk_missing_summary(&b, json_object_get(s, "missing"));
				printf("  %s: %s\n", json_string_value(json_object_get(s, "name")),
				       b.p);
				buf_release(&b);
			}
		}
		if (json_array_size(set.invalid)) {
			puts("\nCould not be loaded:");
			json_array_foreach(set.invalid, i, s)
				printf("  %s: %s\n", json_string_value(json_object_get(s, "path")),
				       json_string_value(json_object_get(s, "message")));
		}
	}
	/* As OpenClaw's `skills check`: a report, not a gate; it exits 0. */
	json_decref(elig), json_decref(vis), json_decref(cmdv), json_decref(dis);
	json_decref(blk), json_decref(filt), json_decref(hidden), json_decref(miss);
	json_decref(st);
	skills_release(&set);
	config_release(&cfg);
	return 0;
}

static int sk_parse(struct ctx *ctx, int argc, char **argv, struct sk_opts *o, bool list_opts)
{
	const struct opt list[] = {
		{ OPT_FLAG, "json", 0, &o->json, NULL, "print JSON" },
		{ OPT_STR, "agent", 0, &o->agent, "ID", "the agent (default: the default agent)" },
		{ OPT_FLAG, "eligible", 0, &o->eligible, NULL, "only skills ready to use" },
		{ OPT_FLAG, "verbose", 'v', &o->verbose, NULL, "show missing requirements" },
		{ OPT_END },
	};
	const struct opt other[] = {
		{ OPT_FLAG, "json", 0, &o->json, NULL, "print JSON" },
		{ OPT_STR, "agent", 0, &o->agent, "ID", "the agent (default: the default agent)" },
		{ OPT_END },
	};

	memset(o, 0, sizeof(*o));
	return cli_parse(ctx, argc, argv, list_opts ? list : other);
}

static int cmd_skills_list(int argc, char **argv, struct ctx *ctx)
{
	struct sk_opts o;
	int n = sk_parse(ctx, argc, argv, &o, true);

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	return sk_list(ctx, &o);
}

static int cmd_skills_info(int argc, char **argv, struct ctx *ctx)
{
	struct sk_opts o;
	int n = sk_parse(ctx, argc, argv, &o, false);

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n != 1)
		return cli_usage_error(ctx, "expected one skill name");
	return sk_info(ctx, &o, argv[0]);
}

static int cmd_skills_check(int argc, char **argv, struct ctx *ctx)
{
	struct sk_opts o;
	int n = sk_parse(ctx, argc, argv, &o, false);

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	return sk_check(ctx, &o);
}

int cmd_skills(int argc, char **argv, struct ctx *ctx)
{
	return cmd_skills_list(argc, argv, ctx);
}

const struct cmd cmd_skills_sub[] = {
	{ "list", cmd_skills_list, "list skills with their status",
	  "usage: pincer skills list [--json] [--eligible] [-v] [--agent ID]\n"
	  "\n"
	  "A table of every skill: status (ready, needs setup, disabled, blocked,\n"
	  "excluded), name, source and description; -v shows what is missing instead.\n",
	  NULL },
	{ "info", cmd_skills_info, "show one skill in detail",
	  "usage: pincer skills info <name> [--json] [--agent ID]\n"
	  "\n"
	  "Where a skill comes from, whether the model and commands see it, and each\n"
	  "requirement with a check or a cross. Exits 1 when there is no such skill.\n",
	  NULL },
	{ "check", cmd_skills_check, "summarise which skills are ready and what is missing",
	  "usage: pincer skills check [--json] [--agent ID]\n"
	  "\n"
	  "Counts of eligible, visible, disabled, blocked and incomplete skills, and\n"
	  "for each incomplete one what it lacks. A report, not a gate: exits 0.\n",
	  NULL },
	{ NULL },
};
