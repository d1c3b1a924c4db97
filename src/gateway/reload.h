/*
 * reload.h - the running gateway's config: live reload from disk and the
 * state the config RPCs share with it (reload.c, m_config.c).
 *
 * gw->cfg is the config in effect. It changes in one place only,
 * gw_config_apply(): the file watcher calls it after loading and
 * validating the file again, and config.set/patch/apply call it after
 * writing one. The old struct config is freed there, so nothing may keep
 * a pointer into gw->cfg across a return to the loop.
 *
 * Hashes: struct config's content hash is never shown as it is. Clients
 * get a revision, HMAC-SHA-256 of it under a key that lives only in this
 * process (OpenClaw's "hmac-sha256:v1:..." form), because config.get is a
 * read-scope method and a bare SHA-256 of the file would let a reader
 * test guesses of the credentials in it.
 */
#ifndef PINCER_GATEWAY_RELOAD_H
#define PINCER_GATEWAY_RELOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "gateway/gateway.h"

/* Debounce of file events (OpenClaw's fixed 300 ms; it has no key for it). */
#define GW_RELOAD_DEBOUNCE_MS 300

/* "hmac-sha256:v1:" + 43 base64url characters + NUL. */
#define GW_REVISION_LEN 64

/* Config writes a client may make per method in a window (OpenClaw's control-plane limit). */
#define GW_CONFIG_WRITES_PER_WINDOW 30
#define GW_CONFIG_WRITE_WINDOW_MS   60000
/* Clients remembered for the limit; the stalest entry makes room beyond this. */
#define GW_CONFIG_WRITE_BUCKETS     1024

struct config_watch;

struct gw_write_bucket {
	char key[192]; /* method|device|address */
	int count;
	int64_t window_start_ms;
};

#define GW_CONFIG_RETIRED 8

struct gw_reload {
	struct config_watch *watch;              /* NULL until started, and once stopping */
	unsigned char key[32];                   /* the revision HMAC key */
	char rejected_hash[CONFIG_HASH_HEX + 1]; /* the last file judged invalid, reported once */
	json_t *schema;                          /* config.schema's document, built on first use */
	struct gw_write_bucket *buckets;         /* the config write limit (m_config.c) */
	size_t nbuckets;
	/*
	 * Replaced configs, kept for a few more reloads: a tool call or HTTP
	 * fetch that started under the old config may still read it after a
	 * reload, and a config is small. The oldest goes when the ring is full.
	 */
	struct config *retired[GW_CONFIG_RETIRED];
	size_t retired_next;
};

/* Set up gw->reload (in gateway_new). */
void gw_reload_init(struct gateway *gw);
/* Start watching the config files (in gateway_start). */
void gw_reload_start(struct gateway *gw);
/* Stop watching; its handles close on the loop (in gateway_shutdown). */
void gw_reload_stop(struct gateway *gw);
/* Free gw->reload (in gateway_free). */
void gw_reload_release(struct gateway *gw);

/*
 * Load the config file again and, when it is valid and differs from the
 * one in effect, apply it. An invalid file is logged (every problem, with
 * file:line:col) and the running config kept. `why` names the trigger for
 * the log ("file change").
 */
void gw_config_reload(struct gateway *gw, const char *why);

/*
 * Make `next` (a heap struct config, loaded and valid; ownership passes to
 * the gateway) the config in effect: swap it in, drop cached snapshots,
 * bump the health version and tell clients (`config.changed`, then a fresh
 * `health`). The paths whose changes only a restart applies are appended
 * to `restart_paths` when it is not NULL. Returns whether any of them did.
 */
bool gw_config_apply(struct gateway *gw, struct config *next, const char *why,
		     json_t *restart_paths);

/* The revision clients see for a content hash (struct config's `hash`). */
void gw_config_revision(const struct gateway *gw, const char *hash, char out[GW_REVISION_LEN]);

#endif
