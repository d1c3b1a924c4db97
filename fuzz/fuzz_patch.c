/*
 * fuzz_patch.c - libFuzzer target for what config.patch does with a
 * client's JSON5: merge patches, the destructive-array guard, diffs, and
 * credential redaction with its restore.
 *
 * The input is two JSON5 documents separated by a NUL byte (a base config
 * and a patch; without a NUL the same text is both). Invariants checked:
 * the merge leaves its inputs alone, and whenever restoring a redacted
 * tree succeeds it gives back exactly the original.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/patch.h"
#include "config/redact.h"
#include "config/schema.h"
#include "core/json5.h"
#include "core/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *fuzz_parse(const char *p, size_t n)
{
	struct json5_error err;

	return json5_parse(p, n, NULL, NULL, &err);
}

static void fuzz_round_trip(const json_t *v)
{
	json_t *values = json_array(), *red = config_redact(v, values), *back;
	char err[256];

	back = config_restore_redacted(red, v, err, sizeof(err));
	if (back && !json_equal(back, v))
		abort();
	json_decref(back);
	json_decref(red);
	json_decref(values);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	size_t blen = nul ? (size_t)(nul - text) : size;
	json_t *base = fuzz_parse(text, blen);
	json_t *patch = nul ? fuzz_parse(nul + 1, size - blen - 1) : json_incref(base);
	json_t *b0, *p0, *merged, *out, *set;

	if (!base || !patch)
		goto out;
	b0 = json_deep_copy(base);
	p0 = json_deep_copy(patch);
	out = json_array();
	config_diff_paths(base, patch, false, out);
	config_diff_paths(base, patch, true, out);
	/* Every changed path makes a plausible replacePaths list too. */
	set = config_patch_replace_set(out);
	merged = config_merge_patch(base, patch, set);
	if (!json_equal(base, b0) || !json_equal(patch, p0))
		abort();
	config_patch_destructive(base, patch, merged, NULL, out);
	config_patch_destructive(base, patch, merged, set, out);
	fuzz_round_trip(base);
	fuzz_round_trip(merged);
	{
		size_t i;
		json_t *v;

		json_array_foreach(out, i, v)
		{
			(void)config_path_reload(json_string_value(v));
		}
	}
	json_decref(merged);
	json_decref(set);
	json_decref(out);
	json_decref(b0);
	json_decref(p0);
out:
	json_decref(base);
	json_decref(patch);
	schema_release();
	return 0;
}
