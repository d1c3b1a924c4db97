/*
 * cli.c - command dispatch, option parsing, usage and help; see cli.h.
 */
#include "core/cli.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/jsonx.h"
#include "core/str.h"

/* The top-level table, for `help`. Set once by cli_main. */
static const struct cmd *cli_commands;
static const char *cli_version;

/* Options every command accepts; values land in the ctx (see cli_parse). */
enum { GOPT_STATE_DIR, GOPT_PROFILE, GOPT_DEV, GOPT_NO_COLOR, GOPT_COUNT };
static const struct opt cli_global_opts[] = {
	[GOPT_STATE_DIR] = { OPT_STR, "state-dir", 0, NULL, "DIR",
			     "state directory (default ~/.pincer; env PINCER_STATE_DIR)" },
	[GOPT_PROFILE] = { OPT_STR, "profile", 0, NULL, "NAME",
			   "isolated state in ~/.pincer-NAME" },
	[GOPT_DEV] = { OPT_FLAG, "dev", 0, NULL, NULL, "dev profile: state in ~/.pincer-dev" },
	[GOPT_NO_COLOR] = { OPT_FLAG, "no-color", 0, NULL, NULL, "disable ANSI colors" },
	[GOPT_COUNT] = { OPT_END, NULL, 0, NULL, NULL, NULL },
};

int cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("pincer: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int cli_usage_error(struct ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pincer %s: ", ctx->cmdpath);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'pincer %s -h')\n", ctx->cmdpath);
	return EXIT_USAGE;
}

const struct paths *cli_paths(struct ctx *ctx)
{
	if (!ctx->paths_ready) {
		paths_resolve(&ctx->paths, ctx->state_dir_opt, ctx->profile, ctx->dev);
		ctx->paths_ready = true;
	}
	return &ctx->paths;
}

/* ==== usage ==== */

static void cli_print_opts(FILE *fp, const struct opt *opts)
{
	for (const struct opt *o = opts; o && o->kind != OPT_END; o++) {
		char left[64];

		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fprintf(fp, "  %-24s %s\n", left, o->help);
	}
}

void cli_print_usage(FILE *fp, const struct cmd *cmd, const char *cmdpath, const struct opt *opts)
{
	fputs(cmd->usage, fp);
	if (cmd->sub) {
		fputs("\ncommands:\n", fp);
		for (const struct cmd *s = cmd->sub; s->name; s++)
			fprintf(fp, "  %-14s %s\n", s->name, s->summary);
	}
	fputs("\noptions:\n", fp);
	cli_print_opts(fp, opts);
	fprintf(fp, "  %-24s %s\n", "-h, --help", "show this help");
	fputs("\nglobal options:\n", fp);
	cli_print_opts(fp, cli_global_opts);
	if (cmd->sub)
		fprintf(fp, "\nRun 'pincer %s <command> -h' for a command's options.\n", cmdpath);
}

static void cli_print_main_usage(FILE *fp)
{
	fputs("usage: pincer [--state-dir DIR | --profile NAME | --dev] [--no-color]\n"
	      "              <command> [<subcommand>] [options]\n"
	      "\n"
	      "pincer is a self-hosted personal AI assistant gateway: one small daemon that\n"
	      "connects your chat apps to LLM agents that act with tools.\n"
	      "\n"
	      "commands:\n",
	      fp);
	for (const struct cmd *c = cli_commands; c->name; c++)
		fprintf(fp, "  %-14s %s\n", c->name, c->summary);
	fputs("\nRun 'pincer help <command>' or 'pincer <command> -h' for details.\n"
	      "'pincer --version' prints the version.\n",
	      fp);
}

/* ==== option parsing ==== */

static const struct opt *cli_find_long(const struct opt *opts, const char *name, size_t len)
{
	for (const struct opt *o = opts; o && o->kind != OPT_END; o++)
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	return NULL;
}

static const struct opt *cli_find_short(const struct opt *opts, char c)
{
	for (const struct opt *o = opts; o && o->kind != OPT_END; o++)
		if (o->short_name && o->short_name == c)
			return o;
	return NULL;
}

/* One-line error for an unknown option, naming the closest valid one. */
static void cli_unknown_option(struct ctx *ctx, const char *arg, const struct opt *opts)
{
	const char *names[128];
	size_t n = 0;
	char want[64];
	const char *best;

	snprintf(want, sizeof(want), "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
	for (const struct opt *o = opts; o && o->kind != OPT_END && n < 120; o++)
		names[n++] = o->name;
	for (const struct opt *o = cli_global_opts; o->kind != OPT_END; o++)
		names[n++] = o->name;
	names[n++] = "help";
	best = arg[1] == '-' ? str_closest(want, names, n) : NULL;
	if (best)
		fprintf(stderr, "pincer %s: unknown option '%s'; did you mean '--%s'?\n",
			ctx->cmdpath, arg, best);
	else
		fprintf(stderr, "pincer %s: unknown option '%s' (see 'pincer %s -h')\n",
			ctx->cmdpath, arg, ctx->cmdpath);
}

/* Store one option's value; `val` is NULL for flags. */
static int cli_store(struct ctx *ctx, const struct opt *o, const char *val, const char *spelled)
{
	switch (o->kind) {
	case OPT_FLAG:
		if (val) {
			fprintf(stderr, "pincer %s: option '%s' takes no value\n", ctx->cmdpath,
				spelled);
			return -1;
		}
		*(bool *)o->value = true;
		return 0;
	case OPT_STR:
		*(const char **)o->value = val;
		return 0;
	case OPT_INT:
		if (str_to_ll(val, (long long *)o->value) < 0) {
			fprintf(stderr, "pincer %s: option '%s' expects an integer, got '%s'\n",
				ctx->cmdpath, spelled, val);
			return -1;
		}
		return 0;
	case OPT_END:
		break;
	}
	BUG("bad option kind");
}

static bool cli_profile_ok(const char *p)
{
	if (!*p)
		return false;
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

/* Apply a global option; -1 after a message if its value is unusable. */
static int cli_store_global(struct ctx *ctx, const struct opt *g, const char *val)
{
	switch (g - cli_global_opts) {
	case GOPT_STATE_DIR:
		ctx->state_dir_opt = val;
		break;
	case GOPT_PROFILE:
		/* The name becomes part of a path: no '/', no "..". */
		if (!cli_profile_ok(val)) {
			fprintf(stderr,
				"pincer: invalid profile name '%s' (use letters, digits, "
				"'-' and '_')\n",
				val);
			return -1;
		}
		ctx->profile = val;
		break;
	case GOPT_DEV:
		ctx->dev = true;
		break;
	case GOPT_NO_COLOR:
		ctx->color = false;
		break;
	}
	if (ctx->paths_ready)
		paths_release(&ctx->paths);
	ctx->paths_ready = false;
	return 0;
}

int cli_parse(struct ctx *ctx, int argc, char **argv, const struct opt *opts)
{
	int npos = 0;
	bool only_pos = false;

	/* argv[0] is the command name itself. */
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		const struct opt *o = NULL, *g = NULL;
		const char *val = NULL;
		char spelled[80];

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			argv[npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			cli_print_usage(stdout, ctx->cmd, ctx->cmdpath, opts);
			return CLI_HELP;
		}
		if (a[1] == '-') {
			size_t len = strcspn(a + 2, "=");

			o = cli_find_long(opts, a + 2, len);
			if (!o)
				g = cli_find_long(cli_global_opts, a + 2, len);
			if (a[2 + len] == '=')
				val = a + 3 + len;
			snprintf(spelled, sizeof(spelled), "--%.*s", (int)len, a + 2);
		} else {
			o = cli_find_short(opts, a[1]);
			if (a[2])
				val = a + 2;
			snprintf(spelled, sizeof(spelled), "-%c", a[1]);
		}
		if (!o && !g) {
			cli_unknown_option(ctx, a, opts);
			return -1;
		}
		if (!val && (o ? o->kind : g->kind) != OPT_FLAG) {
			if (i + 1 >= argc) {
				fprintf(stderr, "pincer %s: option '%s' needs a value\n",
					ctx->cmdpath, spelled);
				return -1;
			}
			val = argv[++i];
		}
		if (g) {
			if (g->kind == OPT_FLAG && val) {
				fprintf(stderr, "pincer %s: option '%s' takes no value\n",
					ctx->cmdpath, spelled);
				return -1;
			}
			if (cli_store_global(ctx, g, val) < 0)
				return -1;
		} else if (cli_store(ctx, o, val, spelled) < 0) {
			return -1;
		}
	}
	argv[npos] = NULL;
	return npos;
}

/* ==== dispatch ==== */

static const struct cmd *cli_find_cmd(const struct cmd *table, const char *name)
{
	for (const struct cmd *c = table; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int cli_unknown_cmd(const struct cmd *table, const char *what, const char *name)
{
	const char *names[128];
	size_t n = 0;
	const char *best;

	for (const struct cmd *c = table; c->name && n < ARRAY_SIZE(names); c++)
		names[n++] = c->name;
	best = str_closest(name, names, n);
	if (best)
		fprintf(stderr, "pincer: unknown %s '%s'; did you mean '%s'?\n", what, name, best);
	else
		fprintf(stderr, "pincer: unknown %s '%s' (see 'pincer help')\n", what, name);
	return EXIT_USAGE;
}

/* Run `cmd` (and its subcommands) on argv, where argv[0] is its own name. */
static int cli_run(struct ctx *ctx, const struct cmd *cmd, int argc, char **argv)
{
	size_t used = strlen(ctx->cmdpath);

	snprintf(ctx->cmdpath + used, sizeof(ctx->cmdpath) - used, "%s%s", used ? " " : "",
		 cmd->name);
	ctx->cmd = cmd;
	if (cmd->sub && argc > 1 && argv[1][0] != '-') {
		const struct cmd *sub = cli_find_cmd(cmd->sub, argv[1]);

		if (sub)
			return cli_run(ctx, sub, argc - 1, argv + 1);
		if (!cmd->run) {
			char what[96];

			snprintf(what, sizeof(what), "'%s' command", ctx->cmdpath);
			return cli_unknown_cmd(cmd->sub, what, argv[1]);
		}
	}
	if (!cmd->run) {
		/* A command that only groups subcommands: -h is help, anything else misuse. */
		int r = cli_parse(ctx, argc, argv, NULL);

		if (r == CLI_HELP)
			return 0;
		if (r >= 0) {
			cli_print_usage(stderr, cmd, ctx->cmdpath, NULL);
			return EXIT_USAGE;
		}
		return EXIT_USAGE;
	}
	return cmd->run(argc, argv, ctx);
}

int cli_main(int argc, char **argv, const struct cmd *cmds, const char *version)
{
	struct ctx ctx = { 0 };
	int i = 1, r;

	cli_commands = cmds;
	cli_version = version;
	ctx.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	strcpy(ctx.cmdpath, "");

	/* Global options before the command name. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		size_t len = strcspn(a + 2, "=");
		const struct opt *g =
			a[1] == '-' ? cli_find_long(cli_global_opts, a + 2, len) : NULL;
		const char *val = NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			cli_print_main_usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			printf("pincer %s\n", version);
			return 0;
		}
		if (!g) {
			const char *names[GOPT_COUNT + 2];
			size_t n = 0;
			const char *best;

			for (const struct opt *o = cli_global_opts; o->kind != OPT_END; o++)
				names[n++] = o->name;
			names[n++] = "version";
			names[n++] = "help";
			best = a[1] == '-' ? str_closest(a + 2, names, n) : NULL;
			if (best)
				fprintf(stderr,
					"pincer: unknown option '%s'; did you mean '--%s'?\n", a,
					best);
			else
				fprintf(stderr, "pincer: unknown option '%s' (see 'pincer -h')\n",
					a);
			return EXIT_USAGE;
		}
		if (g->kind != OPT_FLAG) {
			if (a[2 + len] == '=')
				val = a + 3 + len;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return cli_error("option '%s' needs a value", a), EXIT_USAGE;
		}
		if (cli_store_global(&ctx, g, val) < 0)
			return EXIT_USAGE;
	}
	if (i >= argc) {
		cli_print_main_usage(stdout);
		return 0;
	}
	const struct cmd *cmd = cli_find_cmd(cmds, argv[i]);

	if (!cmd)
		return cli_unknown_cmd(cmds, "command", argv[i]);
	r = cli_run(&ctx, cmd, argc - i, argv + i);
	if (ctx.paths_ready)
		paths_release(&ctx.paths);
	return r;
}

/* ==== help ==== */

const char cli_help_usage[] =
	"usage: pincer help [<command> [<subcommand>]] [--json | --names]\n"
	"\n"
	"Show the list of commands, or one command's usage (the same as\n"
	"'pincer <command> -h'). --json prints the whole command tree;\n"
	"--names prints the names under a command one per line (for completion).\n";

static json_t *cli_cmd_json(const struct cmd *c)
{
	json_t *o = json_pack("{s:s, s:s}", "name", c->name, "summary", c->summary);

	if (c->sub) {
		json_t *subs = json_array();

		for (const struct cmd *s = c->sub; s->name; s++)
			json_array_append_new(subs, cli_cmd_json(s));
		json_object_set_new(o, "subcommands", subs);
	}
	return o;
}

int cli_cmd_help(int argc, char **argv, struct ctx *ctx)
{
	bool json = false, names = false;
	const struct opt opts[] = {
		{ OPT_FLAG, "json", 0, &json, NULL, "print the command tree as JSON" },
		{ OPT_FLAG, "names", 0, &names, NULL, "print command names, one per line" },
		{ OPT_END },
	};
	const struct cmd *table = cli_commands, *c = NULL;
	int n = cli_parse(ctx, argc, argv, opts);

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	/* Resolve the named command path, if any. */
	for (int i = 0; i < n; i++) {
		const struct cmd *next = table ? cli_find_cmd(table, argv[i]) : NULL;

		if (!next)
			return cli_unknown_cmd(table ? table : cli_commands, "command", argv[i]);
		c = next;
		table = c->sub;
	}
	if (json) {
		json_t *root = json_object(), *arr = json_array();
		char *s;

		for (const struct cmd *x = c ? c->sub : cli_commands; x && x->name; x++)
			json_array_append_new(arr, cli_cmd_json(x));
		json_object_set_new(root, "version", json_string(cli_version));
		json_object_set_new(root, "commands", arr);
		s = json_dump_str(root, JSON_INDENT(2));
		puts(s);
		free(s);
		json_decref(root);
		return 0;
	}
	if (names) {
		for (const struct cmd *x = c ? c->sub : cli_commands; x && x->name; x++)
			puts(x->name);
		return 0;
	}
	if (!c) {
		cli_print_main_usage(stdout);
		return 0;
	}
	/* `help a b` is `a b -h`: the command prints its own usage. */
	{
		char *av[8];
		struct ctx sub = { .color = ctx->color };
		int r;

		/* Resolution above bounds n by the table's depth; keep av in range anyway. */
		if (n > 6)
			return cli_usage_error(ctx, "too many command names");
		for (int i = 0; i < n; i++)
			av[i] = argv[i];
		av[n] = "-h";
		av[n + 1] = NULL;
		r = cli_run(&sub, cli_find_cmd(cli_commands, av[0]), n + 1, av);
		if (sub.paths_ready)
			paths_release(&sub.paths);
		return r;
	}
}
