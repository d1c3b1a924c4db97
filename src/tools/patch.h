/*
 * patch.h - OpenAI's apply_patch format, parsed and applied in memory.
 *
 *	*** Begin Patch
 *	*** Add File: path        then "+line" lines (the whole file)
 *	*** Delete File: path
 *	*** Update File: path
 *	*** Move to: new/path     (optional)
 *	@@ context line           then " ctx", "-old", "+new" lines; "*** End of File"
 *	*** End Patch
 *
 * Pure functions, no I/O (so the parser and the applier can be fuzzed):
 * patch_parse turns the text into hunks, patch_apply_update turns a file's
 * old contents and one update hunk into its new contents. The apply_patch
 * tool does the reading, writing and path policy.
 *
 * Both follow OpenClaw's implementation: the envelope may be wrapped in a
 * <<EOF heredoc; the first chunk of an update may omit "@@"; old lines are
 * searched from where the previous chunk ended, exactly first, then
 * ignoring trailing whitespace, then surrounding whitespace, then also
 * folding typographic dashes, quotes and spaces, and a match must be
 * unique; context lines keep the file's own text, and line endings (LF,
 * CRLF, CR), a UTF-8 BOM and a missing final newline are preserved.
 */
#ifndef PINCER_TOOLS_PATCH_H
#define PINCER_TOOLS_PATCH_H

#include <stdbool.h>
#include <stddef.h>

/* Largest patch text accepted, and most hunks in one patch. */
#define PATCH_MAX_INPUT  (8u * 1024 * 1024)
#define PATCH_MAX_HUNKS  1000
/* Largest file an update produces. */
#define PATCH_MAX_OUTPUT (64u * 1024 * 1024)

enum patch_kind { PATCH_ADD, PATCH_DELETE, PATCH_UPDATE };

struct patch_chunk {
	char *context; /* the "@@ <context>" line's text, or NULL */
	char **old_lines;
	size_t n_old;
	char **new_lines;
	size_t n_new;
	/* For each new line: the index of the old line it is an unchanged copy of, or -1. */
	long *ctx_of;
	bool eof; /* "*** End of File": the old lines end the file */
};

struct patch_hunk {
	enum patch_kind kind;
	char *path;
	char *move_path; /* update: "*** Move to:", or NULL */
	char *contents;  /* add: the whole new file */
	size_t contents_len;
	struct patch_chunk *chunks; /* update */
	size_t n_chunks;
	int line; /* line of the hunk header in the patch, 1-based */
};

struct patch {
	struct patch_hunk *hunks;
	size_t n_hunks;
};

/*
 * Parse `len` bytes of patch text into `out`. 0, or -1 with a message in
 * err naming the line ("Invalid patch hunk at line 3: ..."); `out` is
 * empty then. Free with patch_free.
 */
int patch_parse(const char *text, size_t len, struct patch *out, char *err, size_t errlen);
void patch_free(struct patch *p);

/*
 * Apply an update hunk's chunks to a file's contents (`src`, `len`
 * bytes). Returns the new contents (new string, NUL-terminated, length in
 * *outlen), or NULL with a message in err that names `display` (how the
 * file is called in messages) and the lines that could not be found.
 */
char *patch_apply_update(const char *src, size_t len, const struct patch_hunk *h,
			 const char *display, size_t *outlen, char *err, size_t errlen);

#endif
