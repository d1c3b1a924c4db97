/*
 * health.c - `pincer health`: ask the running gateway for its health
 * snapshot (the `health` RPC) and summarise it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "core/str.h"
#include "core/timeutil.h"

const char cmd_health_usage[] =
	"usage: pincer health [--json] [--url URL] [--token TOKEN] [--timeout MS]\n"
	"\n"
	"Ask the running gateway for its health (the `health` method) and print a\n"
	"short summary: overall state, agents, sessions, channels; or the whole\n"
	"snapshot with --json. Exits 0 when the gateway reports ok, 1 when it does\n"
	"not or cannot be reached.\n"
	"\n" CMD_GW_CONN_HELP;

/* "label (state)" for one channel of the health snapshot. */
static void health_channel(struct buf *b, const char *id, const json_t *label, const json_t *ch)
{
	const json_t *ok = json_object_get(ch, "ok");
	const json_t *probe_ok = json_object_get(json_object_get(ch, "probe"), "ok");
	const char *state = NULL;

	if (json_is_boolean(probe_ok))
		ok = probe_ok;
	if (json_is_boolean(ok))
		state = json_is_true(ok) ? "ok" : "not ok";
	else if (json_is_true(json_object_get(ch, "configured")))
		state = "configured";
	buf_printf(b, "%s%s", b->len ? ", " : "",
		   json_string_value(label) ? json_string_value(label) : id);
	if (state)
		buf_printf(b, " (%s)", state);
}

/* The human summary of a health snapshot. */
static void health_print(const struct gw_target *t, const json_t *h, long long ms)
{
	const json_t *agents = json_object_get(h, "agents"), *a;
	const json_t *order = json_object_get(h, "channelOrder");
	const json_t *channels = json_object_get(h, "channels");
	const json_t *labels = json_object_get(h, "channelLabels");
	const json_t *sessions = json_object_get(h, "sessions");
	struct buf b;
	size_t i;

	buf_init(&b, 64 * 1024);
	printf("Gateway: %s (%s, answered in %lld ms)\n",
	       json_is_true(json_object_get(h, "ok")) ? "ok" : "not ok", t->url, ms);

	json_array_foreach(agents, i, a)
	{
		const char *id = json_string_value(json_object_get(a, "agentId"));

		buf_printf(&b, "%s%s%s", i ? ", " : "", id ? id : "?",
			   json_is_true(json_object_get(a, "isDefault")) ? " (default)" : "");
	}
	printf("Agents: %s\n", b.len ? b.p : "none");

	if (json_is_object(sessions))
		printf("Sessions: %lld\n",
		       (long long)json_integer_value(json_object_get(sessions, "count")));

	buf_reset(&b);
	if (json_array_size(order)) {
		json_array_foreach(order, i, a)
		{
			const char *id = json_string_value(a);

			if (id)
				health_channel(&b, id, json_object_get(labels, id),
					       json_object_get(channels, id));
		}
	} else {
		const char *id;
		json_t *ch;

		json_object_foreach((json_t *)channels, id, ch)
			health_channel(&b, id, json_object_get(labels, id), ch);
	}
	printf("Channels: %s\n", b.len ? b.p : "none configured");

	buf_reset(&b);
	json_array_foreach(agents, i, a)
	{
		const json_t *hb = json_object_get(a, "heartbeat");
		const char *every = json_string_value(json_object_get(hb, "every"));

		if (json_is_true(json_object_get(hb, "enabled")) && every)
			buf_printf(&b, "%s%s (%s)", b.len ? ", " : "", every,
				   json_string_value(json_object_get(a, "agentId")));
	}
	if (b.len)
		printf("Heartbeat: %s\n", b.p);
	buf_release(&b);
}

int cmd_health(int argc, char **argv, struct ctx *ctx)
{
	struct cmd_gw_conn c = { .port = LLONG_MIN, .timeout = LLONG_MIN };
	bool json = false;
	const struct opt opts[] = {
		{ OPT_FLAG, "json", 0, &json, NULL, "print the health snapshot as JSON" },
		CMD_GW_CONN_OPTS(c),
		{ OPT_END },
	};
	struct gw_target t;
	json_t *h;
	int64_t t0;
	int n = cli_parse(ctx, argc, argv, opts), r;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	t0 = time_mono_ms();
	r = cmd_gw_call1(ctx, &c, &t, "health", NULL, NULL, &h);
	if (!r) {
		if (json)
			cmd_gw_print_json(h, false);
		else
			health_print(&t, h, (long long)(time_mono_ms() - t0));
		r = json_is_true(json_object_get(h, "ok")) ? 0 : 1;
	}
	json_decref(h);
	gw_target_release(&t);
	return r;
}
