/*
 * gateway_tool.h - what the `gateway` tool needs from the daemon: the
 * gateway whose config methods it calls in-process (gw_call_local).
 *
 * The gateway binds itself when it starts and unbinds when freed; without
 * a bound gateway (`pincer agent --local`, unit tests) the tool answers
 * that the gateway is not running.
 */
#ifndef PINCER_TOOLS_GATEWAY_TOOL_H
#define PINCER_TOOLS_GATEWAY_TOOL_H

struct gateway;

void tool_gateway_bind(struct gateway *gw);
/* Forget `gw` if it is the one bound. */
void tool_gateway_unbind(struct gateway *gw);

#endif
