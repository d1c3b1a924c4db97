/*
 * version.c - `pincer version`: what this binary is and what it links.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include <libwebsockets.h>

#include "cmd/cmd.h"
#include "core/jsonx.h"

const char cmd_version_usage[] = "usage: pincer version [--json]\n"
				 "\n"
				 "Print pincer's version, the git revision it was built from and\n"
				 "the versions of the libraries it runs on.\n";

int cmd_version(int argc, char **argv, struct ctx *ctx)
{
	bool json = false;
	const struct opt opts[] = {
		{ OPT_FLAG, "json", 0, &json, NULL, "print as JSON" },
		{ OPT_END },
	};
	int n = cli_parse(ctx, argc, argv, opts);
	json_t *o;
	char *s;

	if (n < 0)
		return CLI_PARSE_EXIT(n);
	if (n > 0)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[0]);
	o = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "version", PINCER_VERSION, "gitrev",
		      PINCER_GITREV, "libraries", "jansson", JANSSON_VERSION, "libuv",
		      uv_version_string(), "libwebsockets", lws_get_library_version(), "openssl",
		      OpenSSL_version(OPENSSL_VERSION));
	if (json) {
		s = json_dump_str(o, JSON_INDENT(2));
		puts(s);
		free(s);
	} else {
		printf("pincer %s (%s)\n", PINCER_VERSION, PINCER_GITREV);
		printf("  jansson %s, libuv %s, libwebsockets %s, %s\n", JANSSON_VERSION,
		       uv_version_string(), lws_get_library_version(),
		       OpenSSL_version(OPENSSL_VERSION));
	}
	json_decref(o);
	return 0;
}
