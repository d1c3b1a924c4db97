/*
 * fuzz_prov_stream.c - libFuzzer target for the five providers' stream and
 * error-body parsers, through the driver's test seam (the same framing,
 * ops->event, ops->finish and ops->error path a real call takes).
 *
 * Input layout:
 *   byte 0: bits 0-2 pick the wire format (mod 5, order of `apis` below);
 *           bit 6 ends the transfer with a dropped connection instead of a
 *           clean end; bit 7 answers with an HTTP error status (the body is
 *           then an error body)
 *   byte 1: chunk size (0 = the whole body at once, else 1..255 bytes), so
 *           events are split at data-derived points, down to one byte
 *   rest:   the response body
 * Invariants: the sink's done runs exactly once, with an assistant message
 * whose stopReason is a string; an error comes with stopReason "error" and
 * a kind, success never does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_client.h"
#include "providers/provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const apis[] = { "openai-completions", "openai-responses", "anthropic-messages",
				    "ollama", "google-generative-ai" };
static const long statuses[] = { 400, 401, 403, 404, 413, 429, 500, 503, 529 };

struct fz {
	int done;
	bool failed;
	json_t *message;
};

static void fz_text(void *ud, const char *d, size_t n)
{
	(void)ud, (void)d, (void)n;
}

static void fz_tool(void *ud, const json_t *blk)
{
	if (!json_is_object(blk) || !json_is_object(json_object_get(blk, "arguments")))
		abort();
	(void)ud;
}

static void fz_done(void *ud, json_t *message, const struct prov_error *err)
{
	struct fz *f = ud;
	const char *stop = json_string_value(json_object_get(message, "stopReason"));

	f->done++;
	f->message = message;
	f->failed = err != NULL;
	if (!stop)
		abort();
	if (err && (err->kind == PROV_ERR_NONE || strcmp(stop, "error") != 0))
		abort();
	if (!err && strcmp(stop, "error") == 0)
		abort();
}

static const struct prov_sink fz_sink = { fz_text, fz_text, fz_tool, fz_done };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prov_model m = {
		.provider = "fuzz",
		.id = "fuzz-model",
		.name = "fuzz-model",
		.reasoning = true,
		.input_image = true,
	};
	struct prov_request rq = { .model = &m };
	const struct prov_ops *ops;
	struct prov_stream *st;
	struct fz f = { 0 };
	size_t off = 2, step;

	if (size < 2)
		return 0;
	m.api = (char *)apis[(data[0] & 7) % 5];
	ops = prov_ops_find(m.api);
	if (!ops || !ops->event)
		return 0;
	st = prov_stream_test_new(&rq, ops, &fz_sink, &f);
	if (data[0] & 0x80)
		prov_stream_test_status(st,
					statuses[data[1] % (sizeof(statuses) / sizeof(*statuses))]);
	step = data[1] ? data[1] : size;
	while (off < size) {
		size_t n = size - off < step ? size - off : step;

		if (prov_stream_test_feed(st, (const char *)data + off, n))
			break;
		off += n;
	}
	prov_stream_test_end(st, (data[0] & 0x40) ? HTTP_E_NETWORK : HTTP_OK, "1", NULL);
	if (f.done != 1)
		abort();
	json_decref(f.message);
	return 0;
}
