/*
 * sessions.c - `pincer sessions`: the sessions the gateway knows, newest
 * first (the sessions.list method).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/timeutil.h"

const char cmd_sessions_usage[] =
	"usage: pincer sessions [--json] [--agent ID] [--active MIN] [--limit N]\n"
	"\n"
	"List sessions: key, kind, when last active, model and token use. --active\n"
	"keeps those active in the last MIN minutes.\n"
	"\n" CMD_GW_CONN_HELP;

int cmd_sessions(int argc, char **argv, struct ctx *ctx)
{
	struct cmd_gw_conn c = { .port = LLONG_MIN, .timeout = LLONG_MIN };
	bool json = false;
	const char *agent = NULL;
	long long active = LLONG_MIN, limit = LLONG_MIN;
	const struct opt opts[] = {
		{ OPT_FLAG, "json", 0, &json, NULL, "print the sessions.list answer as JSON" },
		{ OPT_STR, "agent", 0, &agent, "ID", "only this agent's sessions" },
		{ OPT_INT, "active", 0, &active, "MIN",
		  "only sessions active in the last MIN minutes" },
		{ OPT_INT, "limit", 0, &limit, "N", "at most N sessions" },
		CMD_GW_CONN_OPTS(c),
		{ OPT_END },
	};
	int r = cli_parse(ctx, argc, argv, opts), rc;
	struct gw_target t;
	json_t *p = json_object(), *out = NULL, *row;
	size_t i;

	if (r < 0) {
		json_decref(p);
		return CLI_PARSE_EXIT(r);
	}
	if (agent)
		json_object_set_new(p, "agentId", json_string(agent));
	if (active != LLONG_MIN)
		json_object_set_new(p, "activeMinutes", json_integer(active));
	if (limit != LLONG_MIN)
		json_object_set_new(p, "limit", json_integer(limit));
	rc = cmd_gw_call1(ctx, &c, &t, "sessions.list", p, NULL, &out);
	gw_target_release(&t);
	if (rc)
		return rc;
	if (json) {
		cmd_gw_print_json(out, false);
		json_decref(out);
		return 0;
	}
	if (!json_array_size(json_object_get(out, "sessions")))
		printf("No sessions yet.\n");
	else
		printf("%-44s %-9s %-12s %-28s %s\n", "KEY", "KIND", "ACTIVE", "MODEL", "TOKENS");
	json_array_foreach(json_object_get(out, "sessions"), i, row)
	{
		char ago[32] = "-", model[128] = "-";
		json_int_t upd = json_integer_value(json_object_get(row, "updatedAt"));
		const char *m = json_string_value(json_object_get(row, "model"));
		const char *mp = json_string_value(json_object_get(row, "modelProvider"));
		if (upd) {
			cmd_gw_format_duration(ago, sizeof(ago), time_now_ms() - upd);
			strncat(ago, " ago", sizeof(ago) - strlen(ago) - 1);
		}
		if (m)
			snprintf(model, sizeof(model), "%s%s%s", mp ? mp : "", mp ? "/" : "", m);
		printf("%-44s %-9s %-12s %-28s %lld\n",
		       json_string_value(json_object_get(row, "key")),
		       json_string_value(json_object_get(row, "kind")), ago, model,
		       (long long)json_integer_value(json_object_get(row, "totalTokens")));
	}
	json_decref(out);
	return 0;
}
