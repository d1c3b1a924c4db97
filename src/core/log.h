/*
 * log.h - one logging call for the whole tree, with levels, subsystems,
 * secret redaction and a size-capped rotating file.
 *
 *	log_info("gateway", "listening on %s:%d", host, port);
 *
 * The level test happens in the macro, before any argument is evaluated
 * (redis serverLog), so a disabled debug line costs one compare.
 *
 * Two sinks:
 *  - the console (stderr): human lines when stderr is a TTY, JSON lines
 *    otherwise; `logging.consoleStyle` pretty|compact|json forces a style;
 *    filtered by `logging.consoleLevel`.
 *  - the file (`logging.file`, default <state>/logs/pincer.log): always JSON
 *    lines {"time","level","subsystem","message"}, filtered by
 *    `logging.level`, rotated at `logging.maxFileBytes` keeping five numbered
 *    archives (pincer.1.log … pincer.5.log), mode 0600.
 *
 * Redaction: every registered secret (gateway token, API keys, …) is
 * replaced by "***" in the formatted message before it reaches any sink.
 * There is no way to write a log line that bypasses this.
 */
#ifndef PINCER_CORE_LOG_H
#define PINCER_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/mem.h"

enum log_level {
	LOG_TRACE,
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
	LOG_FATAL,
	LOG_SILENT, /* as a threshold only: nothing passes */
};

enum log_style {
	LOG_STYLE_AUTO,    /* pretty on a TTY, json otherwise */
	LOG_STYLE_PRETTY,  /* "12:00:01.123 INFO  gateway  message", colored */
	LOG_STYLE_COMPACT, /* "INFO gateway: message" */
	LOG_STYLE_JSON,    /* one JSON object per line */
};

struct log_opts {
	enum log_level console_level; /* default LOG_INFO */
	enum log_style console_style; /* default LOG_STYLE_AUTO */
	bool color;                   /* honoured by pretty style; --no-color clears */
	enum log_level file_level;    /* default LOG_INFO */
	const char *file;             /* NULL: no file sink */
	size_t max_file_bytes;        /* rotate past this; 0 = 100 MiB */
};

/* Lowest level that any sink wants; read by the macros. */
extern enum log_level log_min_level;

/* Defaults: console at info, auto style, no file. Safe to call again. */
void log_opts_default(struct log_opts *o);
/*
 * (Re)configure the sinks. Opening the file creates its directory (0700)
 * and the file (0600). Returns 0, or -1 with errno if the file cannot be
 * opened (the console sink is configured regardless).
 */
int log_setup(const struct log_opts *o);
/* Close the file sink. Registered secrets are kept. */
void log_shutdown(void);

/*
 * Never let `secret` appear in a log line from now on. Strings shorter than
 * 4 bytes are ignored (they would mask ordinary words). The string is
 * copied. Duplicates are ignored.
 */
void log_add_secret(const char *secret);
/* Forget all secrets (config reload re-adds the current ones). */
void log_clear_secrets(void);

/* "trace".."fatal", "silent"; parse returns -1 for unknown names. */
const char *log_level_name(enum log_level l);
int log_level_parse(const char *s, enum log_level *out);

void log_write(enum log_level lvl, const char *subsys, const char *fmt, ...) PRINTF_LIKE(3, 4);

#define log_at(lvl, subsys, ...)                                                                   \
	do {                                                                                       \
		if ((lvl) >= log_min_level)                                                        \
			log_write((lvl), (subsys), __VA_ARGS__);                                   \
	} while (0)
#define log_trace(subsys, ...) log_at(LOG_TRACE, subsys, __VA_ARGS__)
#define log_debug(subsys, ...) log_at(LOG_DEBUG, subsys, __VA_ARGS__)
#define log_info(subsys, ...)  log_at(LOG_INFO, subsys, __VA_ARGS__)
#define log_warn(subsys, ...)  log_at(LOG_WARN, subsys, __VA_ARGS__)
#define log_error(subsys, ...) log_at(LOG_ERROR, subsys, __VA_ARGS__)

#endif
