/*
 * fuzz_transcript.c - libFuzzer target for the transcript loader and its views.
 *
 * Any bytes load (transcript_parse never fails), and the branch, model
 * context and display views built on the result never crash or leak, and
 * keep their invariants: every bad line is counted with a line number, the
 * leaf (when set) is an indexed entry, and a branch is no longer than the
 * entry list.
 */
#include <stdint.h>
#include <stdlib.h>

#include "session/transcript.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transcript t;
	json_t *br, *ctx, *msgs;

	transcript_parse(&t, (const char *)data, size);
	if (!t.header || !t.session_id || (t.bad_lines > 0) != (t.first_bad_line > 0))
		abort();
	if (t.leaf_id && !transcript_find(&t, t.leaf_id))
		abort();
	br = transcript_branch(&t);
	if (json_array_size(br) > json_array_size(t.entries))
		abort();
	ctx = transcript_context(&t);
	msgs = transcript_messages(&t);
	if (json_array_size(msgs) > json_array_size(br))
		abort();
	json_decref(br);
	json_decref(ctx);
	json_decref(msgs);
	transcript_close(&t);
	return 0;
}
