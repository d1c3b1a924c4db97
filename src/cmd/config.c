/*
 * config.c - `pincer config`: read, change and check the config file.
 *
 * `get` and `validate` read the effective config (includes expanded,
 * ${VAR}s substituted, defaults applied). `set` and `unset` edit the file
 * as written — an $include or a ${VAR} elsewhere in it stays as it was —
 * validate the result against the schema, and replace the file
 * atomically with mode 0600.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "config/schema.h"
#include "core/fs.h"
#include "core/json5.h"
#include "core/jsonx.h"
#include "core/str.h"

const char cmd_config_usage[] =
	"usage: pincer config <command> [options]\n"
	"\n"
	"Read, change and check pincer's config file (JSON5, OpenClaw's keys).\n"
	"The file is <state dir>/pincer.json unless PINCER_CONFIG_PATH names another.\n"
	"Key paths look like gateway.port, agents.list[0].id or\n"
	"models.providers[\"my.provider\"].baseUrl.\n";

static void cmd_config_print_errors(const struct buf *errs)
{
	fputs(errs->p, stderr);
	if (errs->len && errs->p[errs->len - 1] != '\n')
		fputc('\n', stderr);
}

/* Load the effective config or print why not; 0 or 1 (the exit code). */
static int cmd_config_load(struct ctx *ctx, struct config *cfg)
{
	struct buf errs;
	int r = 0;

	buf_init(&errs, 1 << 20);
	config_init(cfg);
	if (config_open(cfg, cli_paths(ctx), &errs) < 0) {
		fprintf(stderr, "pincer: invalid config %s:\n", cli_paths(ctx)->config_path);
		cmd_config_print_errors(&errs);
		r = 1;
	}
	buf_release(&errs);
	return r;
}

/* Refuse a path the schema does not know, naming the closest key. */
static int cmd_config_check_key(struct ctx *ctx, const char *path)
{
	struct jpath_step *steps;
	char err[256];
	int n = jpath_parse(path, &steps, err, sizeof(err));

	if (n < 0)
		return cli_usage_error(ctx, "%s", err);
	jpath_free(steps, n);
	if (!schema_lookup(path)) {
		char *best = schema_suggest(path);

		if (best)
			fprintf(stderr, "pincer %s: unknown config key '%s'; did you mean '%s'?\n",
				ctx->cmdpath, path, best);
		else
			fprintf(stderr,
				"pincer %s: unknown config key '%s' (see 'pincer config schema')\n",
				ctx->cmdpath, path);
		free(best);
		return 1;
	}
	return 0;
}

/* Whether `path` holds a credential, so its value is masked when printed. */
static bool cmd_config_is_secret(const char *path)
{
	const struct cfg_field *row = schema_lookup(path);

	return row && (row->type & CT_SECRET);
}

/* Replace credential values (and SecretRef ids stay visible) inside `v` at `path`. */
static void cmd_config_mask(json_t *v, struct buf *path)
{
	size_t mark = path->len;

	if (cmd_config_is_secret(path->p) && json_is_string(v)) {
		json_string_set(v, "__REDACTED__");
		return;
	}
	if (json_is_object(v)) {
		const char *k;
		json_t *c;

		json_object_foreach(v, k, c)
		{
			jpath_push_key(path, k);
			cmd_config_mask(c, path);
			buf_truncate(path, mark);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *c;

		json_array_foreach(v, i, c)
		{
			jpath_push_index(path, i);
			cmd_config_mask(c, path);
			buf_truncate(path, mark);
		}
	}
}

static int cmd_config_get(int argc, char **argv, struct ctx *ctx)
{
	bool json = false, show = false;
	const struct opt opts[] = {
		{ OPT_FLAG, "json", 0, &json, NULL, "print the value as JSON" },
		{ OPT_FLAG, "show-secrets", 0, &show, NULL,
		  "print credentials instead of masking them" },
		{ OPT_END },
	};
	int n = cli_parse(ctx, argc, argv, opts), r;
	struct config cfg;
	json_t *v;
	char *s;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n != 1)
		return cli_usage_error(ctx, "expected one key path");
	if ((r = cmd_config_check_key(ctx, argv[0])))
		return r;
	if ((r = cmd_config_load(ctx, &cfg)))
		return r;
	v = config_get(&cfg, argv[0]);
	if (!v) {
		fprintf(stderr, "pincer: %s is not set and has no default\n", argv[0]);
		config_release(&cfg);
		return 1;
	}
	v = json_deep_copy(v);
	if (!show) {
		struct buf path;

		buf_init(&path, 64 * 1024);
		buf_puts(&path, argv[0]);
		cmd_config_mask(v, &path);
		buf_release(&path);
	}
	if (json_is_string(v) && !json) {
		puts(json_string_value(v));
	} else {
		s = json_dump_str(v, JSON_INDENT(2));
		puts(s);
		free(s);
	}
	json_decref(v);
	config_release(&cfg);
	return 0;
}

/*
 * Write `raw` back after checking that the whole config, as it would be
 * loaded, is valid. Positions are not known for an in-memory tree, so
 * problems are reported by key path only.
 */
static int cmd_config_write(struct ctx *ctx, json_t *raw)
{
	struct buf errs;
	char err[PATH_MAX + 128];
	int r = 1;

	buf_init(&errs, 1 << 20);
	if (config_check_tree(cli_paths(ctx)->config_path, raw, &errs)) {
		fputs("pincer: refusing to write an invalid config:\n", stderr);
		cmd_config_print_errors(&errs);
		goto out;
	}
	if (config_write_file(cli_paths(ctx), raw, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		goto out;
	}
	r = 0;
out:
	buf_release(&errs);
	return r;
}

/* The value a user typed: JSON5 if it parses as such, else the literal string. */
static json_t *cmd_config_parse_value(const char *text, bool strict, struct ctx *ctx)
{
	struct json5_error err;
	json_t *v = json5_parse(text, strlen(text), NULL, NULL, &err);

	if (v)
		return v;
	if (strict) {
		cli_usage_error(ctx, "value is not valid JSON5: %d:%d: %s", err.line, err.col,
				err.text);
		return NULL;
	}
	return json_string(text);
}

static int cmd_config_set(int argc, char **argv, struct ctx *ctx)
{
	bool strict = false;
	const struct opt opts[] = {
		{ OPT_FLAG, "strict-json", 0, &strict, NULL,
		  "the value must parse as JSON5 (no fallback to a plain string)" },
		{ OPT_END },
	};
	int n = cli_parse(ctx, argc, argv, opts), r;
	struct buf errs;
	json_t *raw = NULL, *v = NULL;
	char err[256];
	const struct cfg_field *row;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n != 2)
		return cli_usage_error(ctx, "expected a key path and a value");
	if ((r = cmd_config_check_key(ctx, argv[0])))
		return r;
	v = cmd_config_parse_value(argv[1], strict, ctx);
	if (!v)
		return EXIT_USAGE;
	buf_init(&errs, 1 << 20);
	r = 1;
	if (schema_validate_at(argv[0], v, &errs)) {
		fputs("pincer: invalid value:\n", stderr);
		cmd_config_print_errors(&errs);
		goto out;
	}
	raw = config_read_raw(cli_paths(ctx)->config_path, &errs);
	if (!raw) {
		fputs("pincer: cannot edit the config:\n", stderr);
		cmd_config_print_errors(&errs);
		goto out;
	}
	if (jpath_set(raw, argv[0], json_incref(v), err, sizeof(err)) < 0) {
		cli_error("cannot set %s: %s", argv[0], err);
		goto out;
	}
	if ((r = cmd_config_write(ctx, raw)))
		goto out;
	row = schema_lookup(argv[0]);
	printf("set %s in %s%s\n", argv[0], cli_paths(ctx)->config_path,
	       row && row->reload == RELOAD_RESTART ? " (restart the gateway to apply)" : "");
out:
	json_decref(v);
	json_decref(raw);
	buf_release(&errs);
	return r;
}

static int cmd_config_unset(int argc, char **argv, struct ctx *ctx)
{
	int n = cli_parse(ctx, argc, argv, NULL), r = 1, gone;
	struct buf errs;
	json_t *raw;
	char err[256];

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n != 1)
		return cli_usage_error(ctx, "expected one key path");
	if ((r = cmd_config_check_key(ctx, argv[0])))
		return r;
	r = 1;
	buf_init(&errs, 1 << 20);
	raw = config_read_raw(cli_paths(ctx)->config_path, &errs);
	if (!raw) {
		fputs("pincer: cannot edit the config:\n", stderr);
		cmd_config_print_errors(&errs);
		goto out;
	}
	gone = jpath_unset(raw, argv[0], err, sizeof(err));
	if (gone < 0) {
		cli_error("%s", err);
	} else if (gone == 0) {
		cli_error("%s is not set in %s", argv[0], cli_paths(ctx)->config_path);
	} else if (!(r = cmd_config_write(ctx, raw))) {
		printf("unset %s in %s\n", argv[0], cli_paths(ctx)->config_path);
	}
out:
	json_decref(raw);
	buf_release(&errs);
	return r;
}

static int cmd_config_validate(int argc, char **argv, struct ctx *ctx)
{
	bool json = false;
	const struct opt opts[] = {
		{ OPT_FLAG, "json", 0, &json, NULL, "print the result as JSON" },
		{ OPT_END },
	};
	int n = cli_parse(ctx, argc, argv, opts);
	const char *path;
	struct config cfg;
	struct buf errs;
	int bad;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	path = cli_paths(ctx)->config_path;
	buf_init(&errs, 1 << 20);
	config_init(&cfg);
	bad = config_open(&cfg, cli_paths(ctx), &errs) < 0;
	if (json) {
		json_t *o = json_pack("{s:b, s:s, s:b, s:[]}", "valid", !bad, "path", path,
				      "exists", fs_exists(path), "errors");
		json_t *arr = json_object_get(o, "errors");
		char *s;

		for (const char *line = errs.p; *line;) {
			size_t len = strcspn(line, "\n");

			json_array_append_new(arr, json_stringn(line, len));
			line += len + (line[len] == '\n');
		}
		s = json_dump_str(o, JSON_INDENT(2));
		puts(s);
		free(s);
		json_decref(o);
	} else if (bad) {
		fprintf(stderr, "pincer: invalid config %s:\n", path);
		cmd_config_print_errors(&errs);
	} else {
		printf("config ok: %s%s\n", path, cfg.exists ? "" : " (no file: using defaults)");
	}
	config_release(&cfg);
	buf_release(&errs);
	return bad;
}

static int cmd_config_schema(int argc, char **argv, struct ctx *ctx)
{
	bool keys = false;
	const struct opt opts[] = {
		{ OPT_FLAG, "keys", 0, &keys, NULL,
		  "list every key pattern, one per line (agents.list[].id, models.providers.*)" },
		{ OPT_END },
	};
	int n = cli_parse(ctx, argc, argv, opts);
	const struct cfg_field *row;
	json_t *o;
	char *s;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (keys) {
		size_t count;
		const struct cfg_field *all = schema_fields(&count);

		for (size_t i = 0; i < count; i++)
			puts(all[i].path);
		return 0;
	}
	if (n > 1)
		return cli_usage_error(ctx, "expected at most one key path");
	if (n == 0) {
		o = schema_to_json_schema();
	} else {
		int r = cmd_config_check_key(ctx, argv[0]);

		if (r)
			return r;
		row = schema_lookup(argv[0]);
		o = json_pack("{s:s, s:s, s:s, s:s}", "path", argv[0], "type",
			      schema_type_name(row->type), "reloadKind",
			      schema_reload_name(row->reload), "doc", row->doc);
		if (row->def)
			json_object_set_new(o, "default",
					    json_loads(row->def, JSON_DECODE_ANY, NULL));
		if (row->enums)
			json_object_set_new(o, "enum", json_string(row->enums));
		if (row->min < row->max) {
			json_object_set_new(o, "minimum", json_real(row->min));
			json_object_set_new(o, "maximum", json_real(row->max));
		}
	}
	s = json_dump_str(o, JSON_INDENT(2));
	puts(s);
	free(s);
	json_decref(o);
	return 0;
}

static int cmd_config_file(int argc, char **argv, struct ctx *ctx)
{
	int n = cli_parse(ctx, argc, argv, NULL);

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	puts(cli_paths(ctx)->config_path);
	return 0;
}

const struct cmd cmd_config_sub[] = {
	{ "get", cmd_config_get, "print the value of a key (its default when unset)",
	  "usage: pincer config get <path> [--json] [--show-secrets]\n"
	  "\n"
	  "Print the effective value of a key: what the file says after $include and\n"
	  "${VAR} substitution, else the key's default. Strings print bare unless\n"
	  "--json; credentials print as __REDACTED__ unless --show-secrets.\n",
	  NULL },
	{ "set", cmd_config_set, "set a key in the config file",
	  "usage: pincer config set <path> <value> [--strict-json]\n"
	  "\n"
	  "Set a key. The value is read as JSON5 (18789, true, '[\"a\"]', {mode: \"token\"})\n"
	  "and, when it does not parse, taken as a plain string. The new config is\n"
	  "validated before the file is replaced (atomically, mode 0600); comments\n"
	  "in the file are not preserved.\n",
	  NULL },
	{ "unset", cmd_config_unset, "remove a key from the config file",
	  "usage: pincer config unset <path>\n"
	  "\n"
	  "Remove a key so that its default applies again.\n",
	  NULL },
	{ "validate", cmd_config_validate, "check the config file against the schema",
	  "usage: pincer config validate [--json]\n"
	  "\n"
	  "Load the config as the gateway would and report every problem with its\n"
	  "file:line:col and key path. Exit status 1 when the config is invalid.\n",
	  NULL },
	{ "schema", cmd_config_schema, "print the config schema, or one key's entry",
	  "usage: pincer config schema [<path> | --keys]\n"
	  "\n"
	  "Without a path, print the whole schema as a JSON Schema document. With a\n"
	  "path, print that key's type, default, allowed values, reload kind and doc.\n",
	  NULL },
	{ "file", cmd_config_file, "print the path of the config file",
	  "usage: pincer config file\n"
	  "\n"
	  "Print the config file's path (PINCER_CONFIG_PATH, else <state dir>/pincer.json).\n",
	  NULL },
	{ NULL },
};

int cmd_config_set_value(struct ctx *ctx, const char *path, const char *value)
{
	char *argv[] = { (char *)"set", (char *)path, (char *)value, NULL };

	return cmd_config_set(3, argv, ctx);
}
