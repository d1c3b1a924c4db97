/*
 * keys.h - session keys as OpenClaw spells them (SPEC §4.3).
 *
 *	agent:<agentId>:main                                    the main session
 *	agent:<agentId>:direct:<peer>                           dmScope per-peer
 *	agent:<agentId>:<channel>:direct:<peer>                 per-channel-peer
 *	agent:<agentId>:<channel>:<accountId>:direct:<peer>     per-account-channel-peer
 *	agent:<agentId>:<channel>:group:<id>  …:channel:<id>  …:room:<id>
 *	   + ":topic:<threadId>" / ":thread:<threadId>"
 *	agent:<agentId>:subagent:<uuid>   agent:<agentId>:explicit:<sessionId>
 *	cron:<jobId>   hook:<uuid>   global
 *
 * Agent ids and key parts are normalised as OpenClaw does: lowercase, and
 * any character outside [a-z0-9_-] (plus '+', '@', '.' in peer ids) kept
 * as-is only in peer/group ids; agent ids outside [a-z0-9_-] are refused.
 */
#ifndef PINCER_SESSION_KEYS_H
#define PINCER_SESSION_KEYS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum session_kind {
	SESSION_KIND_MAIN,
	SESSION_KIND_DIRECT,
	SESSION_KIND_GROUP, /* group, channel, room */
	SESSION_KIND_CRON,
	SESSION_KIND_HOOK,
	SESSION_KIND_SUBAGENT,
	SESSION_KIND_OTHER, /* explicit, node, global, … */
};

/* "main", "direct", "group", "cron", "hook", "subagent", "other" (sessions.list kind). */
const char *session_kind_name(enum session_kind k);

/* A normalised agent id ("Main" -> "main"); NULL when it cannot be one. New string. */
char *session_agent_id_normalize(const char *id);

/* agent:<id>:main. New string. */
char *session_key_main(const char *agent_id);

/* Who a message came from, to pick its session. */
struct session_peer {
	const char *channel;    /* "telegram", "webchat", … */
	const char *account_id; /* NULL: "default" */
	const char *peer_id;    /* sender (direct) */
	const char *chat_type;  /* "direct" | "group" | "channel" | "room" */
	const char *group_id;   /* for group/channel/room */
	const char *thread_id;  /* topic/thread, NULL none */
	bool thread_is_topic;   /* ":topic:" (Telegram forums) rather than ":thread:" */
};

/*
 * The session key for an inbound message under `session` config (dmScope,
 * identityLinks: a peer listed as "<channel>:<peer>" under a canonical name
 * uses that name as its peer id). `session_cfg` is the `session` object (may
 * be NULL). New string.
 */
char *session_key_for_peer(const char *agent_id, const json_t *session_cfg,
			   const struct session_peer *peer);

/* The parsed parts of a key. Strings point into `buf`. */
struct session_key_parts {
	char buf[512];
	const char *agent_id; /* NULL for cron:/hook:/global */
	const char *rest;     /* what follows "agent:<id>:" (or the whole key) */
	enum session_kind kind;
	const char *channel; /* when the key names one */
};

/* Parse `key`. Returns 0, or -1 when it is not a session key pincer accepts. */
int session_key_parse(const char *key, struct session_key_parts *out);

/*
 * Canonicalise what a client sent as sessionKey: "main" -> agent:<default>:main,
 * "agent:Main:main" -> lowercase agent id; other keys as given. New string,
 * or NULL when invalid.
 */
char *session_key_canonical(const char *key, const char *default_agent);

#endif
