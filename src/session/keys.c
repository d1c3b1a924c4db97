/*
 * keys.c - session keys as OpenClaw builds and reads them; see keys.h.
 *
 * The rules follow OpenClaw's src/routing/session-key.ts
 * (buildAgentPeerSessionKey, resolveLinkedDirectPeerId) and
 * packages/normalization-core agent-id.ts.
 */
#include "session/keys.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/str.h"

#define AGENT_ID_MAX 64

const char *session_kind_name(enum session_kind k)
{
	switch (k) {
	case SESSION_KIND_MAIN:
		return "main";
	case SESSION_KIND_DIRECT:
		return "direct";
	case SESSION_KIND_GROUP:
		return "group";
	case SESSION_KIND_CRON:
		return "cron";
	case SESSION_KIND_HOOK:
		return "hook";
	case SESSION_KIND_SUBAGENT:
		return "subagent";
	case SESSION_KIND_OTHER:
		break;
	}
	return "other";
}

/* ==== normalisation ==== */

static bool id_char(int c)
{
	return isalnum(c) || c == '_' || c == '-';
}

/* ASCII lowercase copy of s[0..n), trimmed of surrounding whitespace. */
static char *lower_trim(const char *s, size_t n)
{
	char *r;
	size_t i;

	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	r = xstrndup(s, n);
	for (i = 0; r[i]; i++)
		r[i] = (char)tolower((unsigned char)r[i]);
	return r;
}

/* ^[a-z0-9][a-z0-9_-]{0,63}$ (case-insensitive) */
static bool valid_id(const char *s)
{
	size_t i;

	if (!isalnum((unsigned char)s[0]))
		return false;
	for (i = 0; s[i]; i++)
		if (i >= AGENT_ID_MAX || !id_char((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * OpenClaw's normalizeAgentIdStrict: a valid id is lowercased; anything
 * else has each run of other characters turned into one '-', leading and
 * trailing dashes dropped and is cut at 64 ("My Agent" -> "my-agent"). Only
 * an id with nothing left is refused.
 */
char *session_agent_id_normalize(const char *id)
{
	char *low, *out;
	size_t i, o = 0;

	if (!id)
		return NULL;
	low = lower_trim(id, strlen(id));
	if (valid_id(low))
		return low;
	out = xmalloc(strlen(low) + 1);
	for (i = 0; low[i]; i++) {
		if (id_char((unsigned char)low[i]))
			out[o++] = low[i];
		else if (o == 0 || out[o - 1] != '-')
			out[o++] = '-';
	}
	out[o] = '\0';
	free(low);
	for (i = 0; out[i] == '-'; i++)
		;
	memmove(out, out + i, strlen(out + i) + 1);
	o = strlen(out);
	while (o > 0 && out[o - 1] == '-')
		out[--o] = '\0';
	if (o > AGENT_ID_MAX)
		out[AGENT_ID_MAX] = '\0';
	if (!*out) {
		free(out);
		return NULL;
	}
	return out;
}

/* The agent id to put in a key: OpenClaw falls back to "main". */
static char *agent_or_main(const char *agent_id)
{
	char *a = session_agent_id_normalize(agent_id);

	return a ? a : xstrdup("main");
}

char *session_key_main(const char *agent_id)
{
	char *a = agent_or_main(agent_id), *k = xasprintf("agent:%s:main", a);

	free(a);
	return k;
}

/* OpenClaw's normalizeAccountId: like an agent id, falling back to "default". */
static char *account_or_default(const char *account)
{
	char *a = session_agent_id_normalize(account);

	return a ? a : xstrdup("default");
}

/*
 * Signal group ids and Matrix room ids are opaque and case-sensitive, so
 * OpenClaw keeps their case (casePreservingPeerSpan); every other peer id
 * is lowercased.
 */
static bool peer_keeps_case(const char *channel, const char *kind)
{
	if (!channel || !kind)
		return false;
	if (!strcasecmp(channel, "signal") && !strcasecmp(kind, "group"))
		return true;
	return !strcasecmp(channel, "matrix") &&
	       (!strcasecmp(kind, "channel") || !strcasecmp(kind, "group"));
}

/*
 * identityLinks {canonical: ["telegram:123", "987"]}: the canonical name of
 * a direct peer listed either bare or as "<channel>:<peer>", compared
 * case-insensitively (resolveLinkedDirectPeerId). Borrowed, or NULL.
 */
static const char *linked_peer(const json_t *links, const char *channel, const char *peer)
{
	char *bare = lower_trim(peer, strlen(peer)), *scoped = NULL;
	const char *canonical, *found = NULL;
	json_t *ids, *v;
	size_t i;

	if (channel && *channel) {
		char *tmp = xasprintf("%s:%s", channel, peer);

		scoped = lower_trim(tmp, strlen(tmp));
		free(tmp);
	}
	json_object_foreach((json_t *)links, canonical, ids)
	{
		if (!json_is_array(ids) || found)
			continue;
		json_array_foreach(ids, i, v)
		{
			const char *s = json_string_value(v);
			char *low;

			if (!s)
				continue;
			low = lower_trim(s, strlen(s));
			if (*low && (str_eq(low, bare) || str_eq(low, scoped)))
				found = canonical;
			free(low);
			if (found)
				break;
		}
		/* a blank canonical name links nobody */
		if (found) {
			const char *c = found;

			while (isspace((unsigned char)*c))
				c++;
			if (!*c)
				found = NULL;
		}
	}
	free(bare);
	free(scoped);
	return found;
}

char *session_key_for_peer(const char *agent_id, const json_t *session_cfg,
			   const struct session_peer *peer)
{
	const char *kind = peer->chat_type && *peer->chat_type ? peer->chat_type : "direct";
	const char *scope = json_string_value(json_object_get(session_cfg, "dmScope"));
	char *a = agent_or_main(agent_id), *channel, *id = NULL, *key;
	struct buf b;

	channel = lower_trim(peer->channel ? peer->channel : "",
			     strlen(peer->channel ? peer->channel : ""));
	if (!*channel) {
		free(channel);
		channel = xstrdup("unknown");
	}
	buf_init(&b, BUF_UNLIMITED);
	if (!strcmp(kind, "direct") || !strcmp(kind, "dm")) {
		const char *p = peer->peer_id ? peer->peer_id : "";
		const char *linked = NULL;

		if (!scope)
			scope = "main";
		if (strcmp(scope, "main"))
			linked = linked_peer(json_object_get(session_cfg, "identityLinks"),
					     peer->channel, p);
		id = lower_trim(linked ? linked : p, strlen(linked ? linked : p));
		if (*id && !strcmp(scope, "per-account-channel-peer")) {
			char *acct = account_or_default(peer->account_id);

			buf_printf(&b, "agent:%s:%s:%s:direct:%s", a, channel, acct, id);
			free(acct);
		} else if (*id && !strcmp(scope, "per-channel-peer")) {
			buf_printf(&b, "agent:%s:%s:direct:%s", a, channel, id);
		} else if (*id && !strcmp(scope, "per-peer")) {
			buf_printf(&b, "agent:%s:direct:%s", a, id);
		} else {
			buf_printf(&b, "agent:%s:main", a);
		}
	} else if (str_eq(json_string_value(json_object_get(session_cfg, "groupScope")), "main")) {
		buf_printf(&b, "agent:%s:main", a);
	} else {
		const char *g = peer->group_id ? peer->group_id : "";

		if (peer_keeps_case(channel, kind)) {
			size_t n = strlen(g);

			while (n > 0 && isspace((unsigned char)g[n - 1]))
				n--;
			while (n > 0 && isspace((unsigned char)*g))
				g++, n--;
			id = xstrndup(g, n);
		} else {
			id = lower_trim(g, strlen(g));
		}
		buf_printf(&b, "agent:%s:%s:%s:%s", a, channel, kind, *id ? id : "unknown");
	}
	/*
	 * Telegram forum topics are part of the group's peer id
	 * ("<chat>:topic:<n>"); other threads get OpenClaw's ":thread:<id>"
	 * suffix (resolveThreadSessionKeys), lowercased.
	 */
	if (peer->thread_id && *peer->thread_id) {
		char *th = peer->thread_is_topic
				   ? xstrdup(peer->thread_id)
				   : lower_trim(peer->thread_id, strlen(peer->thread_id));

		if (*th)
			buf_printf(&b, ":%s:%s", peer->thread_is_topic ? "topic" : "thread", th);
		free(th);
	}
	free(a);
	free(channel);
	free(id);
	key = buf_detach(&b, NULL);
	return key;
}

/* ==== parsing ==== */

static enum session_kind kind_of_rest(const char *rest, const char **channel_end)
{
	const char *colon = strchr(rest, ':');

	*channel_end = NULL;
	if (!strcmp(rest, "main"))
		return SESSION_KIND_MAIN;
	if (str_starts_with(rest, "direct:") || str_starts_with(rest, "dm:"))
		return SESSION_KIND_DIRECT;
	if (str_starts_with(rest, "cron:"))
		return SESSION_KIND_CRON;
	if (str_starts_with(rest, "hook:"))
		return SESSION_KIND_HOOK;
	if (str_starts_with(rest, "subagent:"))
		return SESSION_KIND_SUBAGENT;
	if (!colon)
		return SESSION_KIND_OTHER;
	/* <channel>:[<account>:]direct:<peer>, <channel>:group|channel|room:<id> */
	{
		const char *p = colon + 1, *q = strchr(p, ':');

		if (str_starts_with(p, "group:") || str_starts_with(p, "channel:") ||
		    str_starts_with(p, "room:")) {
			*channel_end = colon;
			return SESSION_KIND_GROUP;
		}
		if (str_starts_with(p, "direct:") || str_starts_with(p, "dm:") ||
		    (q && (str_starts_with(q + 1, "direct:") || str_starts_with(q + 1, "dm:")))) {
			*channel_end = colon;
			return SESSION_KIND_DIRECT;
		}
	}
	return SESSION_KIND_OTHER;
}

int session_key_parse(const char *key, struct session_key_parts *out)
{
	const char *channel_end;
	size_t n, i;
	char *p;

	memset(out, 0, sizeof(*out));
	if (!key)
		return -1;
	n = strlen(key);
	if (n == 0 || n >= sizeof(out->buf))
		return -1;
	/* keys name files and appear in logs: no control characters */
	for (i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
			return -1;
	memcpy(out->buf, key, n + 1);
	if (!strcmp(key, "global") || !strcmp(key, "unknown")) {
		out->rest = out->buf;
		out->kind = SESSION_KIND_OTHER;
		return 0;
	}
	if (!strncasecmp(key, "cron:", 5) || !strncasecmp(key, "hook:", 5)) {
		if (!key[5])
			return -1;
		out->rest = out->buf;
		out->kind = tolower((unsigned char)key[0]) == 'c' ? SESSION_KIND_CRON
								  : SESSION_KIND_HOOK;
		return 0;
	}
	if (strncasecmp(key, "agent:", 6))
		return -1;
	p = strchr(out->buf + 6, ':');
	if (!p || p == out->buf + 6 || !p[1] || p[1] == ':')
		return -1;
	*p = '\0';
	for (i = 6; out->buf[i]; i++)
		out->buf[i] = (char)tolower((unsigned char)out->buf[i]);
	if (!valid_id(out->buf + 6))
		return -1;
	out->agent_id = out->buf + 6;
	out->rest = p + 1;
	out->kind = kind_of_rest(out->rest, &channel_end);
	if (channel_end) {
		/* the channel is copied after the key in buf when it fits */
		size_t cn = (size_t)(channel_end - out->rest), off = n + 1;

		if (off + cn + 1 <= sizeof(out->buf)) {
			memcpy(out->buf + off, out->rest, cn);
			out->buf[off + cn] = '\0';
			out->channel = out->buf + off;
		}
	}
	return 0;
}

/*
 * OpenClaw lowercases stored keys except opaque peer ids (Signal group
 * ids, Matrix room ids: normalizeSessionKeyPreservingOpaquePeerIds).
 */
static char *normalize_rest(const char *rest)
{
	const char *colon = strchr(rest, ':'), *kind_end;
	char *chan, *kind, *r;

	if (colon && (kind_end = strchr(colon + 1, ':')) != NULL) {
		chan = xstrndup(rest, (size_t)(colon - rest));
		kind = xstrndup(colon + 1, (size_t)(kind_end - colon - 1));
		if (peer_keeps_case(chan, kind)) {
			char *head = lower_trim(rest, (size_t)(kind_end - rest));

			/* Matrix keeps the room id but folds a ":thread:" marker's id too */
			r = xasprintf("%s%s", head, kind_end);
			free(head);
			free(chan);
			free(kind);
			return r;
		}
		free(chan);
		free(kind);
	}
	return lower_trim(rest, strlen(rest));
}

char *session_key_canonical(const char *key, const char *default_agent)
{
	struct session_key_parts parts;
	char *trimmed, *r = NULL, *a;

	if (!key)
		return NULL;
	trimmed = xstrdup(key);
	{
		char *s = trimmed, *e;

		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		memmove(trimmed, s, strlen(s) + 1);
	}
	if (!*trimmed || !strcasecmp(trimmed, "main")) {
		r = session_key_main(default_agent);
		goto out;
	}
	if (!strncasecmp(trimmed, "agent:", 6)) {
		char *rest;

		if (session_key_parse(trimmed, &parts) < 0)
			goto out;
		rest = normalize_rest(parts.rest);
		r = xasprintf("agent:%s:%s", parts.agent_id, rest);
		free(rest);
		goto out;
	}
	if (session_key_parse(trimmed, &parts) == 0) {
		/* global, cron:<job>, hook:<uuid>: not agent-scoped, kept as given */
		r = xstrdup(trimmed);
		goto out;
	}
	/*
	 * Any other request key ("telegram:direct:123") is scoped to the
	 * default agent, as OpenClaw's toAgentStoreSessionKey does.
	 */
	{
		char *rest = normalize_rest(trimmed), *k;

		a = agent_or_main(default_agent);
		k = xasprintf("agent:%s:%s", a, rest);
		free(a);
		free(rest);
		if (session_key_parse(k, &parts) == 0)
			r = k;
		else
			free(k);
	}
out:
	free(trimmed);
	return r;
}
