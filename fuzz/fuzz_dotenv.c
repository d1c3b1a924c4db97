/*
 * fuzz_dotenv.c - libFuzzer target for the .env parser and ${VAR} substitution.
 *
 * The input is parsed as a .env file; every pair handed to the callback
 * is checked for the parser's promises (non-empty key of the dotenv key
 * set, no NUL cut short inside the input). The same bytes, as a string,
 * then go through env_substitute_str and, wrapped in a JSON tree,
 * env_substitute, whose results are checked against each other.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/env.h"
#include "core/buf.h"
#include "core/mem.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Known variables so that substitution takes its success paths too. */
	setenv("FUZZ_A", "alpha", 1);
	setenv("FUZZ_EMPTY", "", 1);
	setenv("FUZZ_REF", "${FUZZ_A}", 1);
	setenv("A", "a", 1);
	setenv("B", "bb", 1);
	return 0;
}

static int check_pair(const char *key, const char *value, void *arg)
{
	size_t *count = arg;

	if (!*key)
		abort();
	for (const char *p = key; *p; p++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-",
			    *p))
			abort();
	(void)strlen(value);
	(*count)++;
	return 0;
}

static void fuzz_substitute(const char *s, size_t len)
{
	char missing[129], *out = NULL;
	int rc = env_substitute_str(s, &out, missing, sizeof(missing));
	json_t *root;
	struct buf errs;

	if (rc == 0) {
		if (!out)
			abort();
	} else if (out || strlen(missing) >= sizeof(missing)) {
		abort();
	}

	/* The tree walk must agree with the single-string call. */
	root = json_pack("{s:[s?]}", "k", (const char *)NULL);
	if (root && strlen(s) == len) {
		json_t *str = json_string(s); /* NULL when not UTF-8 */

		if (str) {
			json_array_set_new(json_object_get(root, "k"), 0, str);
			buf_init(&errs, 64 * 1024);
			if (env_substitute(root, NULL, &errs) == 0) {
				const char *got = json_string_value(
					json_array_get(json_object_get(root, "k"), 0));

				if (rc != 0 || strcmp(got, out) != 0)
					abort();
			} else if (rc == 0 && errs.len && !strstr(errs.p, "UTF-8")) {
				abort();
			}
			buf_release(&errs);
		}
	}
	json_decref(root);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	size_t count = 0;
	char *s;
	int rc;

	rc = env_parse_dotenv((const char *)data, size, check_pair, &count, err, sizeof(err));
	if (rc != 0 && (rc != -1 || strncmp(err, "line ", 5) != 0))
		abort();

	s = xstrndup((const char *)data, size);
	fuzz_substitute(s, size);
	free(s);
	return 0;
}
