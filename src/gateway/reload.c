/*
 * reload.c - live config reload: watching the files, swapping in a new
 * config, telling clients; see reload.h.
 */
#include "gateway/reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "config/config.h"
#include "config/patch.h"
#include "config/paths.h"
#include "config/watch.h"
#include "core/buf.h"
#include "core/id.h"
#include "agent/runtime.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "gateway/internal.h"

#define RELOAD_SUBSYS "reload"

/* Changed paths named in one log line before "(+N more)". */
#define RELOAD_LOG_PATHS 8

/* ==== revisions ==== */

void gw_config_revision(const struct gateway *gw, const char *hash, char out[GW_REVISION_LEN])
{
	static const char prefix[] = "hmac-sha256:v1:";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	char *msg = xasprintf("[\"pincer.gateway.config-revision.raw.v1\",\"%s\"]", hash);
	int n;

	if (!HMAC(EVP_sha256(), gw->reload->key, sizeof(gw->reload->key), (unsigned char *)msg,
		  strlen(msg), mac, &maclen))
		BUG("HMAC-SHA-256 failed");
	free(msg);
	n = EVP_EncodeBlock(b64, mac, (int)maclen);
	/* base64url, unpadded */
	while (n > 0 && b64[n - 1] == '=')
		n--;
	for (int i = 0; i < n; i++)
		b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	snprintf(out, GW_REVISION_LEN, "%s%.*s", prefix, n, (const char *)b64);
}

/* ==== applying ==== */

/* "a, b, c (+4 more)" for a log line. */
static void reload_summary(const json_t *paths, struct buf *out)
{
	size_t i, n = json_array_size(paths);
	json_t *v;

	json_array_foreach(paths, i, v)
	{
		if (i == RELOAD_LOG_PATHS) {
			buf_printf(out, " (+%zu more)", n - i);
			break;
		}
		buf_printf(out, "%s%s", i ? ", " : "", json_string_value(v));
	}
}

bool gw_config_apply(struct gateway *gw, struct config *next, const char *why,
		     json_t *restart_paths)
{
	struct config *old = gw->cfg;
	json_t *changed = json_array(), *restart = json_array(), *v;
	char rev[GW_REVISION_LEN];
	struct buf line;
	size_t i;

	config_diff_paths(old->root, next->root, true, changed);
	json_array_foreach(changed, i, v)
	{
		if (config_path_reload(json_string_value(v)) != RELOAD_RESTART)
			continue;
		json_array_append(restart, v);
		if (restart_paths)
			json_array_append(restart_paths, v);
	}

	gw->cfg = next;
	{
		struct gw_reload *r = gw->reload;
		struct config **slot = &r->retired[r->retired_next];

		if (*slot) {
			config_release(*slot);
			free(*slot);
		}
		*slot = old;
		r->retired_next = (r->retired_next + 1) % GW_CONFIG_RETIRED;
	}
	if (gw->reload->watch)
		config_watch_set(gw->reload->watch, next->files, next->nfiles);
	/* Everything derived from the config is rebuilt from the new one on next use. */
	json_decref(gw->health_cache);
	gw->health_cache = NULL;
	gw->health_version++;
	if (gw->on_reload)
		gw->on_reload(gw, gw->on_reload_arg);
	agent_rt_config_changed(gw->agents);

	buf_init(&line, 64 * 1024);
	reload_summary(changed, &line);
	log_info(RELOAD_SUBSYS, "config reloaded (%s)%s%s", why, line.len ? ": " : "", line.p);
	if (json_array_size(restart)) {
		buf_reset(&line);
		reload_summary(restart, &line);
		log_warn(RELOAD_SUBSYS,
			 "config change requires a gateway restart to take effect: %s", line.p);
	}
	buf_release(&line);

	gw_config_revision(gw, next->hash, rev);
	gateway_broadcast(gw, "config.changed",
			  json_pack("{s:s, s:s, s:I}", "path", next->path, "hash", rev, "ts",
				    (json_int_t)time_now_ms()),
			  false);
	gateway_broadcast(gw, "health", gateway_health_json(gw, true), true);
	json_decref(changed);
	i = json_array_size(restart);
	json_decref(restart);
	return i > 0;
}

void gw_config_reload(struct gateway *gw, const char *why)
{
	struct config *next;
	struct buf errs;

	if (gw->stopping)
		return;
	next = xmalloc(sizeof(*next));
	config_init(next);
	buf_init(&errs, 1 << 20);
	if (config_load(next, gw->cfg->path, &errs) < 0) {
		/* Identical bytes were already judged; say it once per version of the file. */
		if (strcmp(next->hash, gw->reload->rejected_hash)) {
			const char *p = errs.p;

			snprintf(gw->reload->rejected_hash, sizeof(gw->reload->rejected_hash), "%s",
				 next->hash);
			log_warn(RELOAD_SUBSYS,
				 "config reload skipped (invalid config); keeping the running "
				 "config:");
			while (*p) {
				size_t len = strcspn(p, "\n");

				log_warn(RELOAD_SUBSYS, "  %.*s", (int)len, p);
				p += len + (p[len] == '\n');
			}
		}
		goto drop;
	}
	if (!next->exists && gw->cfg->exists) {
		log_warn(RELOAD_SUBSYS, "config reload skipped (config file not found): %s",
			 next->path);
		goto drop;
	}
	if (!strcmp(next->hash, gw->cfg->hash)) {
		/* Our own write coming back, or a save without changes. */
		log_debug(RELOAD_SUBSYS, "config file unchanged (%s)", why);
		goto drop;
	}
	gw->reload->rejected_hash[0] = '\0';
	if (gw_config_apply(gw, next, why, NULL))
		json_decref(gateway_request_restart(gw, GW_RESTART_DELAY_MS, "config.reload"));
	buf_release(&errs);
	return;
drop:
	buf_release(&errs);
	config_release(next);
	free(next);
}

/* ==== lifecycle ==== */

static void reload_on_change(void *arg)
{
	struct gateway *gw = arg;

	if (str_eq(config_get_str(gw->cfg, "gateway.reload.mode"), "off")) {
		log_info(RELOAD_SUBSYS,
			 "config file changed; not applied, since gateway.reload.mode is off");
		return;
	}
	gw_config_reload(gw, "file change");
}

void gw_reload_init(struct gateway *gw)
{
	gw->reload = xcalloc(1, sizeof(*gw->reload));
	id_random_bytes(gw->reload->key, sizeof(gw->reload->key));
}

void gw_reload_start(struct gateway *gw)
{
	size_t n;

	if (gw->reload->watch)
		return;
	gw->reload->watch = config_watch_new(gw->loop, GW_RELOAD_DEBOUNCE_MS, reload_on_change, gw);
	n = config_watch_set(gw->reload->watch, gw->cfg->files, gw->cfg->nfiles);
	if (!gw->cfg->nfiles) {
		/* No file yet: watch for one to appear. */
		char *path = gw->cfg->path;

		n = config_watch_set(gw->reload->watch, &path, 1);
	}
	log_debug(RELOAD_SUBSYS, "watching %zu director%s for config changes", n,
		  n == 1 ? "y" : "ies");
}

void gw_reload_stop(struct gateway *gw)
{
	config_watch_free(gw->reload->watch);
	gw->reload->watch = NULL;
}

void gw_reload_release(struct gateway *gw)
{
	if (!gw->reload)
		return;
	json_decref(gw->reload->schema);
	free(gw->reload->buckets);
	for (size_t i = 0; i < GW_CONFIG_RETIRED; i++) {
		if (gw->reload->retired[i]) {
			config_release(gw->reload->retired[i]);
			free(gw->reload->retired[i]);
		}
	}
	OPENSSL_cleanse(gw->reload->key, sizeof(gw->reload->key));
	free(gw->reload);
	gw->reload = NULL;
}
