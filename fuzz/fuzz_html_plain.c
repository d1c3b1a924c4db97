/*
 * fuzz_html_plain.c - libFuzzer target for the tag stripper html_extract
 * falls back to when libxml2 cannot be loaded: fuzz_html.c's checks, with
 * the library made unloadable first (see FUZZ_HTML_PLAIN there).
 */
#define FUZZ_HTML_PLAIN 1
#include "fuzz_html.c"
