/*
 * agent.c - `pincer agent -m TEXT`: one turn with the agent, the reply
 * streamed to the terminal as it is written.
 *
 * Through the running gateway by default (the `agent` method, deltas from
 * its `agent` events); with --local, in this process, with an embedded
 * runtime on the same state dir — no gateway needed.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/runtime.h"
#include "cmd/cmd.h"
#include "config/config.h"
#include "config/paths.h"
#include "core/id.h"
#include "core/log.h"
#include "core/str.h"

const char cmd_agent_usage[] =
	"usage: pincer agent -m TEXT [--agent ID] [--session-id ID] [--session-key KEY]\n"
	"                    [--thinking LEVEL] [--model REF] [--json] [--local]\n"
	"\n"
	"Send one message to an agent and print its reply as it streams. The turn\n"
	"goes to the agent's main session unless --session-id or --session-key\n"
	"names another. With --json the final result is printed as JSON (the\n"
	"`agent` method's answer). With --local the turn runs in this process\n"
	"against the same state dir, without a gateway. Exit status: 0 when the\n"
	"agent answered, 1 when the run failed.\n"
	"\n" CMD_GW_CONN_HELP;

struct agent_cli {
	char run_id[64];
	bool json;
	bool streamed;  /* something was printed */
	json_t *result; /* the final answer */
	json_t *error;  /* or the error */
	struct gw_client *gc;
	uv_loop_t *loop;
	struct agent_rt *rt;
};

static void print_delta(struct agent_cli *a, const json_t *payload)
{
	const json_t *data = json_object_get(payload, "data");
	const char *stream = json_string_value(json_object_get(payload, "stream"));
	const char *d;

	if (a->json || !str_eq(json_string_value(json_object_get(payload, "runId")), a->run_id))
		return;
	if (str_eq(stream, "assistant") &&
	    (d = json_string_value(json_object_get(data, "delta")))) {
		fputs(d, stdout);
		fflush(stdout);
		a->streamed = true;
	}
}

/* The text of a final result, for when nothing was streamed (e.g. command replies). */
static const char *result_text(const json_t *result)
{
	const json_t *p =
		json_array_get(json_object_get(json_object_get(result, "result"), "payloads"), 0);
	return json_string_value(json_object_get(p, "text"));
}

static int agent_finish(struct agent_cli *a)
{
	const char *t;

	if (a->error) {
		if (a->streamed)
			putchar('\n');
		fprintf(stderr, "pincer agent: %s\n",
			json_string_value(json_object_get(a->error, "message"))
				? json_string_value(json_object_get(a->error, "message"))
				: "the run failed");
		return 1;
	}
	if (a->json) {
		cmd_gw_print_json(a->result, false);
		return str_eq(json_string_value(json_object_get(a->result, "status")), "ok") ? 0
											     : 1;
	}
	if (!a->streamed && (t = result_text(a->result)))
		fputs(t, stdout);
	if (a->streamed || result_text(a->result))
		putchar('\n');
	if (str_eq(json_string_value(json_object_get(a->result, "status")), "timeout")) {
		fprintf(stderr, "pincer agent: the run was stopped\n");
		return 1;
	}
	return 0;
}

/* ==== through the gateway ==== */

static void gw_on_result(struct gw_client *gc, const json_t *payload, const json_t *error,
			 void *arg)
{
	struct agent_cli *a = arg;

	if (error)
		a->error = json_deep_copy(error);
	else
		a->result = json_deep_copy(payload);
	gw_client_close(gc);
}

static void gw_on_event(struct gw_client *gc, const char *event, const json_t *payload, void *arg)
{
	if (!strcmp(event, "agent"))
		print_delta(arg, payload);
}

static void gw_on_close(struct gw_client *gc, const json_t *error, void *arg)
{
	struct agent_cli *a = arg;

	if (error && !a->result && !a->error)
		a->error = json_deep_copy(error);
}

/* ==== local ==== */

static void local_emit(void *arg, const char *event, json_t *payload, unsigned flags)
{
	if (!strcmp(event, "agent"))
		print_delta(arg, payload);
	json_decref(payload);
}

static void local_done(void *arg, const char *run_id, const json_t *result)
{
	struct agent_cli *a = arg;

	if (str_eq(json_string_value(json_object_get(result, "status")), "error"))
		a->error = json_deep_copy(json_object_get(result, "error"));
	else
		a->result = json_deep_copy(result);
	/* the runtime is still unwinding this run: agent_local stops it once the loop is back */
}

static int agent_local(struct ctx *ctx, struct agent_cli *a, struct agent_submit *s)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	struct buf errs;
	struct log_opts lo;
	struct agent_hooks hooks = { .emit = local_emit, .arg = a };
	char err[512], run_id[64];
	uv_loop_t loop;
	int rc;

	log_opts_default(&lo);
	lo.console_level = LOG_ERROR;
	lo.console_style = LOG_STYLE_COMPACT;
	log_setup(&lo);
	config_init(cfg);
	buf_init(&errs, 1 << 20);
	if (config_open(cfg, cli_paths(ctx), &errs) < 0) {
		fprintf(stderr, "pincer: invalid config %s:\n%s", cli_paths(ctx)->config_path,
			errs.p);
		buf_release(&errs);
		config_release(cfg);
		free(cfg);
		return 1;
	}
	buf_release(&errs);
	paths_ensure_state_dir(cli_paths(ctx));
	uv_loop_init(&loop);
	a->rt = agent_rt_new(&loop, (struct config *const *)&cfg, cli_paths(ctx), &hooks);
	agent_rt_set_heartbeats(a->rt, false);
	s->done = local_done;
	s->done_arg = a;
	if (agent_rt_submit(a->rt, s, run_id, NULL, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "pincer agent: %s\n", err);
		agent_rt_shutdown(a->rt);
		rc = 1;
	} else {
		snprintf(a->run_id, sizeof(a->run_id), "%s", run_id);
		rc = -1;
		while (!a->result && !a->error && uv_run(&loop, UV_RUN_ONCE))
			;
		agent_rt_shutdown(a->rt);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	agent_rt_free(a->rt);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	config_release(cfg);
	free(cfg);
	if (rc < 0)
		rc = agent_finish(a);
	json_decref(a->result);
	json_decref(a->error);
	return rc;
}

int cmd_agent(int argc, char **argv, struct ctx *ctx)
{
	struct cmd_gw_conn c = { .port = LLONG_MIN, .timeout = LLONG_MIN };
	const char *msg = NULL, *agent = NULL, *sid = NULL, *skey = NULL, *thinking = NULL,
		   *model = NULL;
	bool json = false, local = false;
	const struct opt opts[] = {
		{ OPT_STR, "message", 'm', &msg, "TEXT", "the message to send" },
		{ OPT_STR, "agent", 0, &agent, "ID", "the agent (default: the default agent)" },
		{ OPT_STR, "session-id", 0, &sid, "ID", "an explicit session id" },
		{ OPT_STR, "session-key", 0, &skey, "KEY", "a session key (agent:<id>:…)" },
		{ OPT_STR, "thinking", 0, &thinking, "LEVEL", "off|minimal|low|medium|high" },
		{ OPT_STR, "model", 0, &model, "REF", "provider/model for this turn" },
		{ OPT_FLAG, "json", 0, &json, NULL, "print the final result as JSON" },
		{ OPT_FLAG, "local", 0, &local, NULL, "run in this process, without the gateway" },
		CMD_GW_CONN_OPTS(c),
		{ OPT_END },
	};
	struct agent_cli a = { 0 };
	struct agent_submit s = { 0 };
	struct gw_target t;
	struct gw_client_opts o;
	char err[256];
	uv_loop_t loop;
	int r = cli_parse(ctx, argc, argv, opts), rc;

	if (r < 0)
		return CLI_PARSE_EXIT(r);
	if (!msg && r > 0)
		msg = argv[0];
	if (!msg || !*msg)
		return cli_usage_error(ctx, "a message is required (-m TEXT)");
	a.json = json;
	s.message = msg;
	s.agent_id = agent;
	s.session_id = sid;
	s.session_key = skey;
	s.thinking = thinking;
	s.model = model;
	s.channel = "cli";
	if (local)
		return agent_local(ctx, &a, &s);

	if ((rc = cmd_gw_target(ctx, &c, &t)) != 0) {
		gw_target_release(&t);
		return rc;
	}
	cmd_gw_client_opts(&t, &c, &o);
	id_uuid(a.run_id);
	uv_loop_init(&loop);
	o.on_event = gw_on_event;
	o.on_close = gw_on_close;
	o.arg = &a;
	a.gc = gw_client_new(&loop, &o, err, sizeof(err));
	if (!a.gc) {
		fprintf(stderr, "pincer agent: %s\n", err);
		uv_loop_close(&loop);
		gw_target_release(&t);
		return 1;
	}
	{
		json_t *p = json_pack("{s:s, s:s}", "message", msg, "idempotencyKey", a.run_id);
		if (agent)
			json_object_set_new(p, "agentId", json_string(agent));
		if (sid)
			json_object_set_new(p, "sessionId", json_string(sid));
		if (skey)
			json_object_set_new(p, "sessionKey", json_string(skey));
		if (thinking)
			json_object_set_new(p, "thinking", json_string(thinking));
		if (model)
			json_object_set_new(p, "model", json_string(model));
		/* the turn may take long; --timeout bounds the wait for its end (default 10 min) */
		gw_client_request(a.gc, "agent", p,
				  c.timeout == LLONG_MIN ? 600000 : (unsigned)c.timeout,
				  gw_on_result, &a);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	gw_client_free(a.gc);
	uv_loop_close(&loop);
	if (a.error)
		cmd_gw_print_hint(&t, a.error);
	gw_target_release(&t);
	rc = agent_finish(&a);
	json_decref(a.result);
	json_decref(a.error);
	return rc;
}
