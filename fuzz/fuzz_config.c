/*
 * fuzz_config.c - libFuzzer target for config validation and key paths.
 *
 * The input is read as a JSON5 config and, when it parses, validated
 * against the schema with its position map, exactly as config_load does
 * for a file; every error line must then name a position. The same bytes
 * are also read as a key path (what `pincer config get|set` take from the
 * command line): parsing, lookup, suggestion and a set/get round trip on a
 * scratch document.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/schema.h"
#include "core/buf.h"
#include "core/json5.h"
#include "core/jsonx.h"
#include "core/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_validate(const uint8_t *data, size_t size)
{
	struct json5_posmap pm = { 0 };
	struct json5_error err;
	struct buf errs;
	json_t *v = json5_parse((const char *)data, size, "fuzz.json5", &pm, &err);

	if (!v)
		goto out;
	buf_init(&errs, 1 << 24);
	schema_validate(v, &pm, &errs);
	buf_release(&errs);
	json_decref(v);
out:
	json5_posmap_release(&pm);
}

static void fuzz_path(const uint8_t *data, size_t size)
{
	char *path = xstrndup((const char *)data, size);
	struct jpath_step *steps;
	char err[256];
	int n;

	if (strlen(path) != size)
		goto out; /* a NUL inside: not something a command line can carry */
	n = jpath_parse(path, &steps, err, sizeof(err));
	if (n < 0)
		goto out;
	jpath_free(steps, n);
	free(schema_suggest(path));
	(void)schema_lookup(path);
	(void)schema_default(path);
	{
		json_t *doc = json_object();

		/* Whatever set accepts, get must find again. */
		if (jpath_set(doc, path, json_integer(7), err, sizeof(err)) == 0 &&
		    json_integer_value(jpath_get(doc, path)) != 7)
			abort();
		json_decref(doc);
	}
out:
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	fuzz_validate(data, size);
	fuzz_path(data, size);
	return 0;
}
