/*
 * lws_glue.c - shared libwebsockets quirks; see lws_glue.h.
 */
#include "net/lws_glue.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"

/*
 * lws's write type for a close frame. Its public header keeps it private
 * ("handled by lws_close_reason()"); see lws_glue_send_close() for why we
 * need it.
 */
#define GLUE_WRITE_CLOSE ((enum lws_write_protocol)4)

/* The payload of a close frame: a 2-byte code and at most 123 bytes of reason. */
#define GLUE_CLOSE_REASON_MAX 123

static void lws_glue_log(int level, const char *line)
{
	int n = (int)strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (level & LLL_ERR)
		log_error("lws", "%.*s", n, line);
	else if (level & LLL_WARN)
		log_warn("lws", "%.*s", n, line);
	else
		log_debug("lws", "%.*s", n, line);
}

void lws_glue_log_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	lws_set_log_level(getenv("PINCER_LWS_DEBUG") ? 0x7ff : LLL_ERR | LLL_WARN, lws_glue_log);
}

int lws_glue_send_close(struct lws *wsi, int code, const char *reason, int ack_timeout_s)
{
	unsigned char frame[LWS_PRE + 2 + GLUE_CLOSE_REASON_MAX], *p = frame + LWS_PRE;
	size_t rlen = reason ? strlen(reason) : 0;

	if (rlen > GLUE_CLOSE_REASON_MAX)
		rlen = str_utf8_prefix(reason, GLUE_CLOSE_REASON_MAX);
	p[0] = (unsigned char)(code >> 8);
	p[1] = (unsigned char)(code & 0xff);
	memcpy(p + 2, reason, rlen);
	if (lws_write(wsi, p, 2 + rlen, GLUE_WRITE_CLOSE) < (int)(2 + rlen))
		return -1;
	lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, ack_timeout_s);
	return 0;
}
