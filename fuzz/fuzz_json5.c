/*
 * fuzz_json5.c - libFuzzer target for the JSON5 reader.
 *
 * Besides crashes and sanitizer reports, it checks properties that must
 * hold for every input:
 *  - a failure fills a position and a message and leaves the map empty;
 *  - a success maps the root first, with path "";
 *  - whatever jansson accepts as strict JSON (without duplicate keys,
 *    NULs, or nesting past JSON5_MAX_DEPTH) json5_parse accepts too, with an
 *    equal value, one map entry per value, and every mapped path resolving;
 *  - re-reading jansson's dump of an accepted value gives the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json5.h"
#include "core/jsonx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t fuzz_depth(const json_t *v)
{
	const char *key;
	json_t *elem;
	size_t i, d, max = 0;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, elem)
		{
			d = fuzz_depth(elem);
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, elem)
		{
			d = fuzz_depth(elem);
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	return 0;
}

static size_t fuzz_count(const json_t *v)
{
	const char *key;
	json_t *elem;
	size_t i, n = 1;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, elem) n += fuzz_count(elem);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, elem) n += fuzz_count(elem);
	}
	return n;
}

/* A document that jansson parses must parse the same way here. */
static void fuzz_differential(const uint8_t *data, size_t size, json_t *v,
			      const struct json5_posmap *pm)
{
	json_error_t jerr;
	json_t *want;
	size_t i;

	want = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
			  &jerr);
	if (!want)
		return;
	/* jansson nests up to 2048 levels; ours stops at JSON5_MAX_DEPTH */
	if (memchr(data, 0, size) || fuzz_depth(want) > JSON5_MAX_DEPTH)
		goto out;
	if (!v || !json_equal(v, want))
		abort();
	/* no duplicate keys, so exactly one entry per value */
	if (pm->n != fuzz_count(v))
		abort();
	for (i = 1; i < pm->n; i++)
		if (jpath_get(v, pm->v[i].path) == NULL)
			abort();
out:
	json_decref(want);
}

/* jansson's dump of a value json5_parse produced reads back as that value. */
static void fuzz_roundtrip(json_t *v)
{
	struct json5_error err;
	json_t *again;
	char *text;

	text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!text)
		abort();
	again = json5_parse(text, strlen(text), NULL, NULL, &err);
	if (!again || !json_equal(v, again))
		abort();
	json_decref(again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json5_posmap pm = { 0 };
	struct json5_error err;
	json_t *v;

	v = json5_parse((const char *)data, size, "fuzz", &pm, &err);
	if (v) {
		if (pm.n == 0 || pm.v[0].path[0] != '\0' || pm.v[0].line < 1 || pm.v[0].col < 1)
			abort();
		fuzz_roundtrip(v);
	} else {
		if (pm.n != 0 || err.line < 1 || err.col < 1 || !err.text[0] ||
		    !memchr(err.text, '\0', sizeof(err.text)))
			abort();
	}
	fuzz_differential(data, size, v, &pm);
	json_decref(v);
	json5_posmap_release(&pm);
	return 0;
}
