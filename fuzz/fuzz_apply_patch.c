/*
 * fuzz_apply_patch.c - libFuzzer target for the apply_patch format
 * (src/tools/patch.c): the parser, and the applier on every update hunk.
 *
 * The input is a patch text and a file's contents separated by a NUL byte
 * (without one, the file is empty). Invariants: parsing either fails with
 * a message or yields hunks whose paths are strings; applying an update
 * either fails with a message or returns exactly *outlen bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "tools/patch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	size_t plen = nul ? (size_t)(nul - (const char *)data) : size;
	const char *file = nul ? nul + 1 : "";
	size_t flen = nul ? size - plen - 1 : 0;
	struct patch p;
	char err[1024];

	err[0] = '\0';
	if (patch_parse((const char *)data, plen, &p, err, sizeof(err)) < 0) {
		if (!err[0] || p.n_hunks)
			abort();
		return 0;
	}
	for (size_t i = 0; i < p.n_hunks; i++) {
		struct patch_hunk *h = &p.hunks[i];
		size_t outlen = 0;
		char *out;

		if (!h->path)
			abort();
		if (h->kind != PATCH_UPDATE)
			continue;
		err[0] = '\0';
		out = patch_apply_update(file, flen, h, "f", &outlen, err, sizeof(err));
		if (!out) {
			if (!err[0])
				abort();
			continue;
		}
		if (strlen(out) > outlen || out[outlen] != '\0')
			abort();
		free(out);
	}
	patch_free(&p);
	return 0;
}
