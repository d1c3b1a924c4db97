/*
 * cli.h - the git-style command line: a command table, option parsing,
 * usage and help.
 *
 * src/main.c holds the table of top-level commands; each lives in
 * src/cmd/<name>.c and exports `int cmd_<name>(int argc, char **argv,
 * struct ctx *ctx)`. A command with subcommands (`pincer config get`)
 * gives a `sub` table instead of, or as well as, its own `run`.
 *
 * Every command parses its options with cli_parse against a `struct opt`
 * table; cli_parse answers -h/--help with the command's usage and options,
 * knows the global options, and reports an unknown option with the closest
 * valid one (exit code 2, like git). `pincer help X Y` runs `pincer X Y -h`,
 * so the usage a command prints is the only copy of its help.
 */
#ifndef PINCER_CORE_CLI_H
#define PINCER_CORE_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "config/paths.h"
#include "core/mem.h"

#define EXIT_USAGE 2 /* bad command line */

/* What cli_parse returns when it has printed the usage for -h/--help. */
#define CLI_HELP (-2)

struct ctx;

struct cmd {
	const char *name;
	int (*run)(int argc, char **argv, struct ctx *ctx); /* NULL: needs a subcommand */
	const char *summary;                                /* one line for `pincer help` */
	const char *usage;     /* synopsis + description, shown by -h */
	const struct cmd *sub; /* subcommands, terminated by a {NULL} row; or NULL */
};

enum opt_kind { OPT_END, OPT_FLAG, OPT_STR, OPT_INT };

struct opt {
	enum opt_kind kind;
	const char *name; /* long name, without "--" */
	char short_name;  /* 0: none */
	void *value;      /* bool *, const char **, long long * */
	const char *arg;  /* placeholder shown in usage ("PORT") */
	const char *help; /* one line */
};

/* Global options, settable before the command or among its options. */
struct ctx {
	const char *state_dir_opt; /* --state-dir */
	const char *profile;       /* --profile */
	bool dev;                  /* --dev */
	bool color;                /* false after --no-color, or when not a TTY, or NO_COLOR set */
	const struct cmd *cmd;     /* the command being run (for usage and errors) */
	char cmdpath[64];          /* "config get": for messages */
	struct paths paths;        /* resolved on first cli_paths() */
	bool paths_ready;
};

/*
 * Run the command line against `cmds` (terminated by a {NULL} row). Returns
 * the process exit code.
 */
int cli_main(int argc, char **argv, const struct cmd *cmds, const char *version);

/*
 * Parse options of the current command. On success, the positional
 * arguments are moved to argv[0..n) and n is returned. Returns CLI_HELP
 * after printing usage for -h, or -1 after printing a one-line error (the
 * command should then return EXIT_USAGE). Options may follow positionals;
 * "--" ends options. `opts` is terminated by an OPT_END row and may be NULL.
 */
int cli_parse(struct ctx *ctx, int argc, char **argv, const struct opt *opts);

/* Return value for a command whose cli_parse gave `r` < 0. */
#define CLI_PARSE_EXIT(r) ((r) == CLI_HELP ? 0 : EXIT_USAGE)

/* Print "pincer <cmd>: <msg>" to stderr; returns EXIT_USAGE for `return cli_usage_error(...)`. */
int cli_usage_error(struct ctx *ctx, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Print "pincer: <msg>" to stderr; returns 1. */
int cli_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* The resolved state dir and config path (from globals and environment). */
const struct paths *cli_paths(struct ctx *ctx);

/* Print a command's usage (synopsis, subcommands, `opts` if any) to `fp`. */
void cli_print_usage(FILE *fp, const struct cmd *cmd, const char *cmdpath, const struct opt *opts);

/* The built-in `help` command; its row goes in main.c's table. */
int cli_cmd_help(int argc, char **argv, struct ctx *ctx);
extern const char cli_help_usage[];

#endif
