/*
 * str.h - small string utilities.
 */
#ifndef PINCER_CORE_STR_H
#define PINCER_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>

bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);
bool str_eq(const char *a, const char *b); /* NULL-safe */
/* Optimal string alignment distance (edits incl. transpositions). */
size_t str_distance(const char *a, const char *b);
/*
 * The candidate closest to `word` if it is plausibly a typo of it (within a
 * third of the word's length, at least 2 edits), or NULL. `cands` is
 * NULL-terminated, or `n` long when n > 0.
 */
const char *str_closest(const char *word, const char *const *cands, size_t n);
/* Constant-time equality of two byte strings (length leaks, content does not). */
bool str_ct_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Parse a whole string as a base-10 long long; -1 on junk or overflow. */
int str_to_ll(const char *s, long long *out);
/*
 * The length of the longest prefix of s[0..len) that is valid UTF-8 (no
 * overlong forms, surrogates or code points past U+10FFFF, as jansson
 * checks). Use it to cut a message at a character boundary: a byte cap can
 * split a character, and a JSON string or a close reason must not.
 */
size_t str_utf8_prefix(const char *s, size_t len);

#endif
