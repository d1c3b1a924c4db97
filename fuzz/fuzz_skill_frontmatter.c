/*
 * fuzz_skill_frontmatter.c - libFuzzer target for SKILL.md front matter.
 *
 * Besides crashes and sanitizer reports (YAML alias bombs, deep nesting,
 * broken UTF-8, BOMs, stray CRs), it checks properties that hold for every
 * input:
 *  - success gives an object and an empty error, failure no object and a
 *    non-empty error starting "invalid frontmatter";
 *  - the manifest lookup and the body split never fail on what parsed;
 *  - {baseDir} expansion of the body leaves no "{baseDir}" behind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skills/skills.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256] = "";
	json_t *fm = NULL, *owned = NULL;
	char *body, *exp;

	if (size > SKILL_MAX_FILE_BYTES)
		return 0;
	if (skill_frontmatter_parse((const char *)data, size, &fm, err, sizeof(err)) == 0) {
		if (!json_is_object(fm) || err[0])
			abort();
		skill_manifest(fm, &owned);
		json_decref(owned);
		json_decref(fm);
	} else {
		if (fm || strncmp(err, "invalid frontmatter", 19) != 0)
			abort();
	}
	body = skill_body((const char *)data, size);
	exp = skill_expand_basedir(body, "/base");
	if (strstr(exp, "{baseDir}"))
		abort();
	free(exp);
	free(body);
	return 0;
}
