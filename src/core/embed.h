/*
 * embed.h - files compiled into the binary.
 *
 * scripts/embed.sh turns a directory into a {NULL}-terminated table of
 * these at build time (the Makefile writes it to $(BUILD)/gen/). The data
 * lives in read-only memory for the life of the process; every blob is
 * followed by a NUL byte not counted in `len`, so text files can be used
 * as C strings directly.
 */
#ifndef PINCER_CORE_EMBED_H
#define PINCER_CORE_EMBED_H

#include <stddef.h>

struct embed_file {
	const char *name;          /* path relative to the embedded dir; NULL ends a table */
	const unsigned char *data; /* len bytes, then a NUL */
	size_t len;
};

/* The workspace templates (the templates/ folder): AGENTS.md, SOUL.md, ... */
extern const struct embed_file embed_templates[];

/*
 * The Control UI (the ui/ folder), with "<name>.gz" gzip copies of its
 * text assets where that is smaller (src/gateway/ui.c serves them).
 */
extern const struct embed_file embed_ui[];

/* The entry named exactly `name` in `table`, or NULL. Linear: tables are small. */
const struct embed_file *embed_find(const struct embed_file *table, const char *name);

#endif
