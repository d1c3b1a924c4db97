/*
 * cmd.h - the top-level commands, one file each under src/cmd/.
 *
 * Each command exports its handler, its usage text (the first line is the
 * synopsis, "usage: pincer <name> ..."), and, when it has subcommands, a
 * {NULL}-terminated table of them. src/main.c lists them.
 */
#ifndef PINCER_CMD_CMD_H
#define PINCER_CMD_CMD_H

#include "core/cli.h"

extern const char cmd_config_usage[];
extern const struct cmd cmd_config_sub[];

int cmd_gateway(int argc, char **argv, struct ctx *ctx);
extern const char cmd_gateway_usage[];
extern const struct cmd cmd_gateway_sub[];

int cmd_version(int argc, char **argv, struct ctx *ctx);
extern const char cmd_version_usage[];

#endif
