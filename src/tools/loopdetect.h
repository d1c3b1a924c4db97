/*
 * loopdetect.h - a model calling the same tool with the same arguments and
 * getting the same answer, over and over (tools.loopDetection).
 *
 * Off by default, as in OpenClaw. When on, every call of a run is checked
 * against the run's recent calls: at warningThreshold identical calls the
 * tool still runs but its result carries a warning to the model; at
 * criticalThreshold identical calls with identical outcomes (no progress)
 * the call is refused and the run stopped, as it is at
 * globalCircuitBreakerThreshold whatever the outcome.
 */
#ifndef PINCER_TOOLS_LOOPDETECT_H
#define PINCER_TOOLS_LOOPDETECT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct config;

enum loop_level { LOOP_OK, LOOP_WARN, LOOP_CRITICAL };

struct tool_loop_rec {
	uint64_t call;    /* hash of name + canonical arguments */
	uint64_t outcome; /* hash of the result, 0 until answered */
};

struct tool_loop {
	struct tool_loop_rec *recs; /* ring of the last historySize calls */
	size_t n, cap, head;
};

/* Check a call before it runs; `msg` gets the warning or the reason to stop. */
enum loop_level tool_loop_check(struct tool_loop *tl, const struct config *cfg,
				const char *agent_id, const char *name, const json_t *args,
				char *msg, size_t msglen);
/* Record a finished call and its result content. */
void tool_loop_record(struct tool_loop *tl, const struct config *cfg, const char *agent_id,
		      const char *name, const json_t *args, const json_t *content, int is_error);
void tool_loop_free(struct tool_loop *tl);

#endif
