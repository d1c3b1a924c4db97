/*
 * main.c - pincer's command table. Everything else lives in src/cmd/.
 */
#include "cmd/cmd.h"
#include "core/cli.h"

static const struct cmd commands[] = {
	{ "gateway", cmd_gateway, "run the gateway daemon (WebSocket + HTTP on one port)",
	  cmd_gateway_usage, cmd_gateway_sub },
	{ "health", cmd_health, "ask the running gateway for its health", cmd_health_usage, NULL },
	{ "status", cmd_status, "overview: gateway, version, agents, sessions, channels",
	  cmd_status_usage, NULL },
	{ "devices", NULL, "pair devices: list, approve, reject, remove", cmd_devices_usage,
	  cmd_devices_sub },
	{ "approvals", NULL, "exec approvals: get, set, allowlist add|remove", cmd_approvals_usage,
	  cmd_approvals_sub },
	{ "skills", cmd_skills, "list skills and check what they need", cmd_skills_usage,
	  cmd_skills_sub },
	{ "memory", cmd_memory, "search and index the agents' memory files", cmd_memory_usage,
	  cmd_memory_sub },
	{ "config", NULL, "read, change and check the configuration", cmd_config_usage,
	  cmd_config_sub },
	{ "agent", cmd_agent, "send a message to an agent and stream its reply", cmd_agent_usage,
	  NULL },
	{ "sessions", cmd_sessions, "list sessions", cmd_sessions_usage, NULL },
	{ "models", NULL, "models: list, status, set the default", cmd_models_usage,
	  cmd_models_sub },
	{ "version", cmd_version, "print version and build information", cmd_version_usage, NULL },
	{ "help", cli_cmd_help, "show help for pincer or one of its commands", cli_help_usage,
	  NULL },
	{ NULL },
};

int main(int argc, char **argv)
{
	return cli_main(argc, argv, commands, PINCER_VERSION);
}
