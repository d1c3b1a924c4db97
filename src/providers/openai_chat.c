/* openai_chat.c - the "openai-completions" wire format (being written). */
#include <stdio.h>

#include "providers/provider.h"

static int build(const struct prov_request *rq, struct prov_http *out, char *err, size_t errlen)
{
	snprintf(err, errlen, "openai-completions: not implemented yet");
	return -1;
}

static int event(struct prov_stream *st, const char *ev, const char *data, size_t len)
{
	return 0;
}

const struct prov_ops prov_openai_chat = {
	.api = "openai-completions",
	.framing = PROV_FRAMING_SSE,
	.build = build,
	.event = event,
};
