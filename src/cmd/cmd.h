/*
 * cmd.h - the top-level commands, one file each under src/cmd/.
 *
 * Each command exports its handler, its usage text (the first line is the
 * synopsis, "usage: pincer <name> ..."), and, when it has subcommands, a
 * {NULL}-terminated table of them. src/main.c lists them.
 */
#ifndef PINCER_CMD_CMD_H
#define PINCER_CMD_CMD_H

#include <jansson.h>

#include "core/cli.h"
#include "gateway/client.h"

extern const char cmd_config_usage[];
/* `pincer config set PATH VALUE` from another command (models set). */
int cmd_config_set_value(struct ctx *ctx, const char *path, const char *value);
int cmd_agent(int argc, char **argv, struct ctx *ctx);
extern const char cmd_agent_usage[];
int cmd_sessions(int argc, char **argv, struct ctx *ctx);
extern const char cmd_sessions_usage[];
extern const char cmd_models_usage[];
extern const struct cmd cmd_models_sub[];
extern const struct cmd cmd_config_sub[];

int cmd_gateway(int argc, char **argv, struct ctx *ctx);
extern const char cmd_gateway_usage[];
extern const struct cmd cmd_gateway_sub[];

int cmd_version(int argc, char **argv, struct ctx *ctx);
extern const char cmd_version_usage[];

int cmd_health(int argc, char **argv, struct ctx *ctx);
extern const char cmd_health_usage[];

int cmd_status(int argc, char **argv, struct ctx *ctx);
extern const char cmd_status_usage[];

extern const char cmd_approvals_usage[];
extern const struct cmd cmd_approvals_sub[];

extern const char cmd_devices_usage[];
extern const struct cmd cmd_devices_sub[];

int cmd_skills(int argc, char **argv, struct ctx *ctx);
int cmd_memory(int argc, char **argv, struct ctx *ctx);
extern const char cmd_memory_usage[];
extern const struct cmd cmd_memory_sub[];
extern const char cmd_skills_usage[];
extern const struct cmd cmd_skills_sub[];

/* `pincer gateway call` and `pincer gateway status` (gateway_client.c). */
int cmd_gateway_call(int argc, char **argv, struct ctx *ctx);
extern const char cmd_gateway_call_usage[];
int cmd_gateway_status(int argc, char **argv, struct ctx *ctx);
extern const char cmd_gateway_status_usage[];

/*
 * Shared by the commands that talk to a running gateway (gateway_client.c,
 * health.c, status.c): the connection options every one of them takes,
 * and turning them into a target.
 */
/* Default --timeout of the client commands, as OpenClaw's `gateway call`. */
#define CMD_GW_DEFAULT_TIMEOUT_MS 10000

struct cmd_gw_conn {
	const char *url, *token, *password;
	long long port;    /* LLONG_MIN: not given */
	long long timeout; /* LLONG_MIN: not given */
};

/* Option rows for struct cmd_gw_conn `c`, to put in a command's option table (one per line). */
/* clang-format off */
#define CMD_GW_CONN_OPTS(c)                                                                        \
	{ OPT_STR, "url", 0, &(c).url, "URL", "gateway WebSocket URL (ws://host:port)" },          \
	{ OPT_STR, "token", 0, &(c).token, "TOKEN", "gateway token (default: see above)" },        \
	{ OPT_STR, "password", 0, &(c).password, "PASSWORD", "gateway password" },                 \
	{ OPT_INT, "port", 0, &(c).port, "PORT", "port of the local gateway" },                    \
	{ OPT_INT, "timeout", 0, &(c).timeout, "MS", "give up after MS milliseconds (default 10000)" }
/* clang-format on */

/* Usage text shared by the client commands: how the gateway and credentials are found. */
#define CMD_GW_CONN_HELP                                                                           \
	"The gateway is --url if given; else gateway.remote.url when gateway.mode is\n"            \
	"\"remote\"; else the local gateway on 127.0.0.1, on --port, else the port in\n"           \
	"<state dir>/gateway.json of a running gateway, else $PINCER_GATEWAY_PORT,\n"              \
	"$OPENCLAW_GATEWAY_PORT, gateway.port or 18789. Credentials: --token or\n"                 \
	"--password, else $PINCER_GATEWAY_TOKEN / $OPENCLAW_GATEWAY_TOKEN /\n"                     \
	"$PINCER_GATEWAY_PASSWORD / $OPENCLAW_GATEWAY_PASSWORD, else gateway.auth.token\n"         \
	"or gateway.auth.password (gateway.remote.* in remote mode; with --url, only\n"            \
	"for a loopback URL).\n"

/*
 * Load the config, quiet the console log (the commands print their own
 * errors) and resolve the target. Returns 0, or the exit code after a
 * message. The caller releases *t with gw_target_release.
 */
int cmd_gw_target(struct ctx *ctx, const struct cmd_gw_conn *c, struct gw_target *t);
/*
 * What most client commands do: resolve the target into *t (release it with
 * gw_target_release, also on failure), make one call to `method` with
 * `params` (stolen; NULL: none) asking for `scopes` (NULL: the method's
 * least-privilege ones), and print the gateway's error if it gave one.
 * Returns 0 with the payload in *payload (new reference), else the exit
 * code.
 */
int cmd_gw_call1(struct ctx *ctx, const struct cmd_gw_conn *c, struct gw_target *t,
		 const char *method, json_t *params, const char *const *scopes, json_t **payload);
/* Connection options for gw_client_call_sync from a target and --timeout. */
void cmd_gw_client_opts(const struct gw_target *t, const struct cmd_gw_conn *c,
			struct gw_client_opts *o);
/* The --timeout value, or the default. */
unsigned cmd_gw_timeout(const struct cmd_gw_conn *c);
/* "error: CODE: message" on stderr, and a hint line when one helps. */
void cmd_gw_print_error(const struct gw_target *t, const json_t *error);
/* Just the hint line (stderr), when one helps. */
void cmd_gw_print_hint(const struct gw_target *t, const json_t *error);
/* Print a JSON value on stdout, indented, or compact with `compact`. */
void cmd_gw_print_json(const json_t *v, bool compact);
/* "3 s", "2 min 5 s", "4 h 12 min", "3 d 2 h". */
void cmd_gw_format_duration(char *out, size_t outlen, long long ms);

#endif
