/*
 * process.c - the `process` tool: list, poll, log, write, send-keys,
 * submit, paste, kill, clear and remove the background sessions that exec
 * left running (proc.c holds them, per agent, in memory only).
 *
 * Texts follow OpenClaw's, since models and skills written for it read them.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "tools/proc.h"
#include "tools/tool.h"

#define PROCESS_LOG_TAIL_LINES     200
#define PROCESS_MAX_POLL_WAIT_MS   30000
#define PROCESS_POLL_TICK_MS       100
#define PROCESS_INPUT_WAIT_IDLE_MS 15000
#define PROCESS_LIST_MAX           128
#define PROCESS_KEYS_MAX           4096 /* bytes one send-keys may produce */

static const char RETAINED_NOTE[] =
	"[earlier output is omitted from this poll; use action=log with offset and limit to "
	"inspect retained output]\n\n";
static const char TIMEOUT_GUIDANCE[] =
	"The command was terminated, but external side effects may already have completed. "
	"Verify the resulting state before retrying. Do not automatically rerun non-idempotent "
	"commands. Use a higher timeout only when the command is known to be safe to retry.";

/* ==== small helpers ==== */

static const char *status_of(const struct proc *p)
{
	if (p->reason == PROC_RUNNING)
		return "running";
	if (p->reason == PROC_CANCELLED ||
	    (p->reason == PROC_EXIT && p->exit_code != 126 && p->exit_code != 127))
		return "completed";
	return "failed";
}

static void duration(int64_t ms, char *out, size_t len)
{
	if (ms < 1000)
		snprintf(out, len, "%lldms", (long long)ms);
	else if (ms < 60000)
		snprintf(out, len, "%llds", (long long)(ms / 1000));
	else if (ms < 3600000)
		snprintf(out, len, "%lldm%llds", (long long)(ms / 60000),
			 (long long)(ms / 1000 % 60));
	else
		snprintf(out, len, "%lldh%lldm", (long long)(ms / 3600000),
			 (long long)(ms / 60000 % 60));
}

/* A compact label for a command: its verb and first operand ("npm install"). New string. */
static char *session_name(const char *cmd)
{
	char tok[2][64];
	int n = 0;
	const char *s = cmd;

	while (*s && n < 8) {
		char q = 0, buf[64];
		size_t len = 0;
		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		while (*s && (q || !isspace((unsigned char)*s))) {
			if ((*s == '"' || *s == '\'') && (!q || q == *s)) {
				q = q ? 0 : *s;
			} else if (len < sizeof(buf) - 1) {
				buf[len++] = *s;
			}
			s++;
		}
		buf[len] = 0;
		if (!len)
			continue;
		if (n == 0 || (n == 1 && buf[0] != '-')) {
			memcpy(tok[n], buf, len + 1);
			n++;
			if (n == 2)
				break;
		}
	}
	if (n == 0)
		return xstrdup("");
	if (n == 1)
		return xstrdup(tok[0]);
	return xasprintf("%s %.48s", tok[0], tok[1]);
}

static bool stdin_writable(const struct proc *p)
{
	return p->reason == PROC_RUNNING && p->stdin_open;
}

/* OpenClaw's input-wait hint for a quiet running session with open stdin, or "". */
static void input_hint(const struct proc *p, char *out, size_t len)
{
	int64_t idle = time_now_ms() - p->last_output_at;
	char d[32];

	out[0] = 0;
	if (!stdin_writable(p) || idle < PROCESS_INPUT_WAIT_IDLE_MS)
		return;
	duration(idle, d, sizeof(d));
	snprintf(out, len,
		 "\n\nNo new output for %s; this session may be waiting for input. Use process "
		 "write, send-keys, submit, or paste to provide input.",
		 d);
}

static void fail(struct tool_call *call, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void fail(struct tool_call *call, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	tool_call_text(call, true, "%s", s);
	free(s);
}

/* ==== list ==== */

static void do_list(struct tool_call *call)
{
	struct proc *ps[PROCESS_LIST_MAX];
	size_t n = proc_list(call->env.agent_id, ps, PROCESS_LIST_MAX), i;
	struct buf b;
	int64_t now = time_now_ms();

	if (!n) {
		tool_call_text(call, false, "No running or recent sessions.");
		return;
	}
	buf_init(&b, BUF_UNLIMITED);
	for (i = 0; i < n; i++) {
		struct proc *p = ps[i];
		char d[32], *name = session_name(p->command);
		const char *label = *name ? name : p->command;
		duration((p->ended_at ? p->ended_at : now) - p->started_at, d, sizeof(d));
		buf_printf(&b, "%s%s %-9s %s%s%s :: %.120s", i ? "\n" : "", p->id, status_of(p), d,
			   p->reason == PROC_TIMEOUT ? " [overall-timeout]" : "",
			   stdin_writable(p) &&
					   now - p->last_output_at >= PROCESS_INPUT_WAIT_IDLE_MS
				   ? " [input-wait]"
				   : "",
			   label);
		free(name);
	}
	tool_call_text(call, false, "%s", b.p);
	buf_release(&b);
}

/* ==== poll ==== */

static void poll_answer(struct tool_call *call, struct proc *p)
{
	uint64_t from = p->poll_pos, total = p->out.total;
	bool dropped = false;
	struct buf b, t;
	char *text, *trimmed, hint[256], label[64];
	size_t s, e;

	if (total - from > p->pending_max) {
		from = total - p->pending_max;
		dropped = true;
	}
	buf_init(&b, BUF_UNLIMITED);
	if (proc_out_since(&p->out, from, &b))
		dropped = true;
	p->poll_pos = total;
	text = proc_text(b.p, b.len, 0);
	buf_release(&b);
	/* trimmed, as OpenClaw's */
	for (s = 0; text[s] && isspace((unsigned char)text[s]); s++)
		;
	for (e = strlen(text); e > s && isspace((unsigned char)text[e - 1]); e--)
		;
	trimmed = xasprintf("%.*s", (int)(e - s), text + s);
	free(text);
	buf_init(&t, BUF_UNLIMITED);
	if (dropped)
		buf_puts(&t, RETAINED_NOTE);
	buf_puts(&t, *trimmed ? trimmed : "(no new output)");
	if (p->reason == PROC_RUNNING) {
		input_hint(p, hint, sizeof(hint));
		buf_puts(&t, *hint ? hint : "\n\nProcess still running.");
	} else {
		proc_exit_label(p, label, sizeof(label));
		p->terminal_seen = true;
		if (p->reason == PROC_CANCELLED)
			buf_printf(&t, "\n\nProcess stopped by request (%s).", label);
		else
			buf_printf(&t, "\n\nProcess exited with %s.", label);
		if (p->reason == PROC_TIMEOUT)
			buf_printf(&t, "\n\n%s", TIMEOUT_GUIDANCE);
	}
	free(trimmed);
	tool_call_text(call, false, "%s", t.p);
	buf_release(&t);
}

/* A poll that waits (timeout > 0) for output or the end. */
struct poll_wait {
	struct tool_call *call;
	uv_timer_t timer;
	char *agent_id, *id;
	int64_t deadline; /* monotonic ms */
};

static void poll_wait_closed(uv_handle_t *h)
{
	struct poll_wait *w = h->data;

	free(w->agent_id);
	free(w->id);
	free(w);
}

static void poll_wait_end(struct poll_wait *w)
{
	struct tool_call *call = w->call;
	struct proc *p = proc_find(w->agent_id, w->id);

	w->call = NULL;
	call->cancel = NULL;
	call->data = NULL;
	uv_close((uv_handle_t *)&w->timer, poll_wait_closed);
	if (p)
		poll_answer(call, p);
	else
		tool_call_text(call, true, "No session found for %s", w->id);
}

static void poll_tick(uv_timer_t *t)
{
	struct poll_wait *w = t->data;
	struct proc *p = proc_find(w->agent_id, w->id);

	if (!p || p->reason != PROC_RUNNING || p->out.total > p->poll_pos ||
	    time_mono_ms() >= w->deadline)
		poll_wait_end(w);
}

static void poll_cancel(struct tool_call *call)
{
	struct poll_wait *w = call->data;

	if (!w)
		return;
	w->call = NULL;
	call->cancel = NULL;
	call->data = NULL;
	uv_close((uv_handle_t *)&w->timer, poll_wait_closed);
	tool_call_text(call, true, "Poll aborted: the run was stopped.");
}

static void do_poll(struct tool_call *call, struct proc *p, const char *id)
{
	json_t *v = json_object_get(call->args, "timeout");
	int64_t wait = 0;
	struct poll_wait *w;

	if (json_is_number(v))
		wait = (int64_t)json_number_value(v);
	else if (json_is_string(v))
		wait = atoll(json_string_value(v));
	if (wait < 0)
		wait = 0;
	if (wait > PROCESS_MAX_POLL_WAIT_MS)
		wait = PROCESS_MAX_POLL_WAIT_MS;
	if (!wait || p->reason != PROC_RUNNING || p->out.total > p->poll_pos) {
		poll_answer(call, p);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->call = call;
	w->agent_id = xstrdup(call->env.agent_id);
	w->id = xstrdup(id);
	w->deadline = time_mono_ms() + wait;
	uv_timer_init(call->env.loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, poll_tick, PROCESS_POLL_TICK_MS, PROCESS_POLL_TICK_MS);
	call->data = w;
	call->cancel = poll_cancel;
}

/* ==== log ==== */

static void do_log(struct tool_call *call, struct proc *p)
{
	json_t *jo = json_object_get(call->args, "offset"),
	       *jl = json_object_get(call->args, "limit");
	bool has_off = json_is_number(jo), has_lim = json_is_number(jl);
	bool default_tail = !has_off && !has_lim;
	long long off = has_off ? (long long)json_number_value(jo) : 0;
	long long lim = has_lim        ? (long long)json_number_value(jl)
			: default_tail ? PROCESS_LOG_TAIL_LINES
				       : -1;
	struct buf b, out;
	char *text, *line, *capped, hint[256], label[64];
	size_t nlines = 0, i, start, end;
	char **lines;

	buf_init(&b, BUF_UNLIMITED);
	proc_out_since(&p->out, 0, &b);
	text = proc_text(b.p, b.len, 0);
	buf_release(&b);
	/* split into lines (a final newline ends the last line, it does not start one) */
	lines = xcalloc(strlen(text) + 2, sizeof(*lines));
	for (line = text; *line;) {
		char *nl = strchr(line, '\n');
		lines[nlines++] = line;
		if (!nl)
			break;
		*nl = 0;
		line = nl + 1;
	}
	if (off < 0)
		off = 0;
	if (lim < -1)
		lim = 0;
	start = (size_t)off;
	if (has_lim && !has_off)
		start = (size_t)lim < nlines ? nlines - (size_t)lim : 0;
	if (default_tail)
		start = nlines > PROCESS_LOG_TAIL_LINES ? nlines - PROCESS_LOG_TAIL_LINES : 0;
	end = lim < 0 ? nlines : start + (size_t)lim;
	if (end > nlines)
		end = nlines;
	buf_init(&out, BUF_UNLIMITED);
	for (i = start; i < end; i++)
		buf_printf(&out, "%s%s", i > start ? "\n" : "", lines[i]);
	capped = proc_text(out.p, out.len, p->pending_max);
	buf_reset(&out);
	buf_puts(&out, *capped                     ? capped
		       : p->reason == PROC_RUNNING ? "(no output yet)"
						   : "(no output recorded)");
	if (default_tail && nlines > PROCESS_LOG_TAIL_LINES)
		buf_printf(&out, "\n\n[showing last %d of %zu lines; pass offset/limit to page]",
			   PROCESS_LOG_TAIL_LINES, nlines);
	if (p->reason == PROC_CANCELLED)
		buf_printf(&out, "\n\nProcess stopped by request (%s).",
			   proc_exit_label(p, label, sizeof(label)));
	if (p->reason == PROC_RUNNING) {
		input_hint(p, hint, sizeof(hint));
		buf_puts(&out, hint);
	} else if (p->reason == PROC_TIMEOUT) {
		buf_printf(&out, "\n\n%s", TIMEOUT_GUIDANCE);
	}
	tool_call_text(call, false, "%s", out.p);
	buf_release(&out);
	free(capped);
	free(lines);
	free(text);
}

/* ==== keys ==== */

struct named_key {
	const char *name, *seq;
};

static const struct named_key named_keys[] = {
	{ "enter", "\r" },     { "return", "\r" },      { "tab", "\t" },
	{ "escape", "\x1b" },  { "esc", "\x1b" },       { "space", " " },
	{ "bspace", "\x7f" },  { "backspace", "\x7f" }, { "up", "\x1b[A" },
	{ "down", "\x1b[B" },  { "right", "\x1b[C" },   { "left", "\x1b[D" },
	{ "home", "\x1b[1~" }, { "end", "\x1b[4~" },    { "pageup", "\x1b[5~" },
	{ "pgup", "\x1b[5~" }, { "ppage", "\x1b[5~" },  { "pagedown", "\x1b[6~" },
	{ "pgdn", "\x1b[6~" }, { "npage", "\x1b[6~" },  { "insert", "\x1b[2~" },
	{ "ic", "\x1b[2~" },   { "delete", "\x1b[3~" }, { "del", "\x1b[3~" },
	{ "dc", "\x1b[3~" },   { "btab", "\x1b[Z" },    { "f1", "\x1bOP" },
	{ "f2", "\x1bOQ" },    { "f3", "\x1bOR" },      { "f4", "\x1bOS" },
	{ "f5", "\x1b[15~" },  { "f6", "\x1b[17~" },    { "f7", "\x1b[18~" },
	{ "f8", "\x1b[19~" },  { "f9", "\x1b[20~" },    { "f10", "\x1b[21~" },
	{ "f11", "\x1b[23~" }, { "f12", "\x1b[24~" },   { "kp/", "\x1bOo" },
	{ "kp*", "\x1bOj" },   { "kp-", "\x1bOm" },     { "kp+", "\x1bOk" },
	{ "kp7", "\x1bOw" },   { "kp8", "\x1bOx" },     { "kp9", "\x1bOy" },
	{ "kp4", "\x1bOt" },   { "kp5", "\x1bOu" },     { "kp6", "\x1bOv" },
	{ "kp1", "\x1bOq" },   { "kp2", "\x1bOr" },     { "kp3", "\x1bOs" },
	{ "kp0", "\x1bOp" },   { "kp.", "\x1bOn" },     { "kpenter", "\x1bOM" },
	{ NULL, NULL },
};

/* Keys whose sequences take xterm modifiers (ESC[1;5A for C-Up). */
static const char *const modifiable[] = {
	"up",       "down", "left",  "right",  "home", "end",    "pageup", "pgup", "ppage",
	"pagedown", "pgdn", "npage", "insert", "ic",   "delete", "del",    "dc",   NULL,
};

/* Application cursor mode (DECCKM) sequences. */
static const struct named_key ss3_keys[] = {
	{ "up", "\x1bOA" },   { "down", "\x1bOB" }, { "right", "\x1bOC" }, { "left", "\x1bOD" },
	{ "home", "\x1bOH" }, { "end", "\x1bOF" },  { NULL, NULL },
};

static const char *key_lookup(const struct named_key *t, const char *name)
{
	for (; t->name; t++)
		if (!strcasecmp(t->name, name))
			return t->seq;
	return NULL;
}

static bool is_modifiable(const char *name)
{
	size_t i;

	for (i = 0; modifiable[i]; i++)
		if (!strcasecmp(modifiable[i], name))
			return true;
	return false;
}

static int ctrl_char(char c)
{
	if (c == '?')
		return 0x7f;
	c = (char)toupper((unsigned char)c);
	if (c >= 64 && c <= 95)
		return c & 31;
	return -1;
}

/* One key token ("Enter", "C-c", "^D", "M-x", "S-Tab", "C-Up", "q") to bytes. */
static void encode_key(const char *raw, bool app_cursor, struct buf *b, struct buf *warn)
{
	char token[128], base[128];
	const char *rest, *seq;
	size_t len;
	bool ctrl = false, alt = false, shift = false, mods = false;
	int c;

	while (*raw && isspace((unsigned char)*raw))
		raw++;
	len = strlen(raw);
	while (len && isspace((unsigned char)raw[len - 1]))
		len--;
	if (!len)
		return;
	if (len >= sizeof(token))
		len = sizeof(token) - 1;
	memcpy(token, raw, len);
	token[len] = 0;
	if (len == 2 && token[0] == '^' && (c = ctrl_char(token[1])) >= 0) {
		buf_putc(b, (char)c);
		return;
	}
	rest = token;
	while (strlen(rest) > 2 && rest[1] == '-') {
		char m = (char)tolower((unsigned char)rest[0]);
		if (m == 'c')
			ctrl = true;
		else if (m == 'm')
			alt = true;
		else if (m == 's')
			shift = true;
		else
			break;
		mods = true;
		rest += 2;
	}
	snprintf(base, sizeof(base), "%s", rest);
	if (!strcasecmp(base, "tab") && shift) {
		buf_puts(b, "\x1b[Z");
		return;
	}
	if (app_cursor && !mods && (seq = key_lookup(ss3_keys, base))) {
		buf_puts(b, seq);
		return;
	}
	if ((seq = key_lookup(named_keys, base))) {
		if (is_modifiable(base) && mods) {
			/* ESC [ <param> ; <1+shift+2alt+4ctrl> <final> */
			size_t sl = strlen(seq);
			int mod = 1 + (shift ? 1 : 0) + (alt ? 2 : 0) + (ctrl ? 4 : 0);
			if (sl > 3)
				buf_printf(b, "\x1b[%.*s;%d%c", (int)(sl - 3), seq + 2, mod,
					   seq[sl - 1]);
			else
				buf_printf(b, "\x1b[1;%d%c", mod, seq[sl - 1]);
			return;
		}
		if (alt)
			buf_putc(b, '\x1b');
		buf_puts(b, seq);
		return;
	}
	if (strlen(base) == 1) {
		char ch = base[0];
		if (shift && ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 32);
		if (ctrl && (c = ctrl_char(ch)) >= 0)
			ch = (char)c;
		if (alt)
			buf_putc(b, '\x1b');
		buf_putc(b, ch);
		return;
	}
	if (mods)
		buf_printf(warn, "\n- Unknown key \"%s\" for modifiers; sending literal.", base);
	buf_puts(b, base);
}

static int hex_byte(const char *s)
{
	char *end;
	long v;

	if (!strncasecmp(s, "0x", 2))
		s += 2;
	if (!*s || strlen(s) > 2 || !isxdigit((unsigned char)s[0]) ||
	    (s[1] && !isxdigit((unsigned char)s[1])))
		return -1;
	v = strtol(s, &end, 16);
	return *end ? -1 : (int)v;
}

/* ==== input actions ==== */

/* The running, backgrounded session `id` with writable stdin, or NULL after failing the call. */
static struct proc *writable(struct tool_call *call, struct proc *p, const char *id)
{
	if (!p || p->reason != PROC_RUNNING) {
		fail(call, "No active session found for %s", id);
		return NULL;
	}
	if (!p->backgrounded) {
		fail(call, "Session %s is not backgrounded.", id);
		return NULL;
	}
	if (!p->stdin_open) {
		fail(call, "Session %s stdin is not writable.", id);
		return NULL;
	}
	return p;
}

static bool input_send(struct tool_call *call, struct proc *p, const void *data, size_t len,
		       bool eof)
{
	char err[256];

	if (proc_write(p, data, len, eof, err, sizeof(err)) < 0) {
		tool_call_text(call, true, "%s", err);
		return false;
	}
	return true;
}

static void do_send_keys(struct tool_call *call, struct proc *p, const char *id)
{
	json_t *keys = json_object_get(call->args, "keys"),
	       *hex = json_object_get(call->args, "hex");
	const char *literal = json_string_value(json_object_get(call->args, "literal"));
	struct buf b, warn;
	json_t *v;
	size_t i;

	buf_init(&b, PROCESS_KEYS_MAX);
	buf_init(&warn, 4096);
	if (literal)
		buf_puts(&b, literal);
	json_array_foreach(hex, i, v)
	{
		int x = json_is_string(v) ? hex_byte(json_string_value(v)) : -1;
		if (x < 0)
			buf_printf(&warn, "\n- Invalid hex byte: %s",
				   json_is_string(v) ? json_string_value(v) : "(not a string)");
		else
			buf_putc(&b, (char)x);
	}
	json_array_foreach(keys, i, v) if (json_is_string(v))
		encode_key(json_string_value(v), p->app_cursor, &b, &warn);
	if (!b.len) {
		tool_call_text(call, true, "No key data provided.");
	} else if (input_send(call, p, b.p, b.len, false)) {
		tool_call_text(call, false, "Sent %zu bytes to session %s.%s%s", b.len, id,
			       warn.len ? "\nWarnings:" : "", warn.p);
	}
	buf_release(&b);
	buf_release(&warn);
}

static void do_write(struct tool_call *call, struct proc *p, const char *id)
{
	json_t *d = json_object_get(call->args, "data");
	const char *data = json_is_string(d) ? json_string_value(d) : "";
	size_t len = json_is_string(d) ? json_string_length(d) : 0;
	bool eof = json_is_true(json_object_get(call->args, "eof"));

	if (input_send(call, p, data, len, eof))
		tool_call_text(call, false, "Wrote %zu bytes to session %s%s.", len, id,
			       eof ? " (stdin closed)" : "");
}

static void do_submit(struct tool_call *call, struct proc *p, const char *id)
{
	json_t *d = json_object_get(call->args, "data");
	struct buf b;

	/* OpenClaw's submit sends CR; with `data`, the line goes first */
	buf_init(&b, BUF_UNLIMITED);
	if (json_is_string(d))
		buf_append(&b, json_string_value(d), json_string_length(d));
	buf_putc(&b, '\r');
	if (input_send(call, p, b.p, b.len, false))
		tool_call_text(call, false, "Submitted session %s (sent CR).", id);
	buf_release(&b);
}

static void do_paste(struct tool_call *call, struct proc *p, const char *id)
{
	json_t *t = json_object_get(call->args, "text");
	bool bracketed = !json_is_false(json_object_get(call->args, "bracketed"));
	const char *text = json_is_string(t) ? json_string_value(t) : "";
	size_t len = json_is_string(t) ? json_string_length(t) : 0;
	struct buf b;

	if (!len && !bracketed) {
		tool_call_text(call, true, "No paste text provided.");
		return;
	}
	buf_init(&b, BUF_UNLIMITED);
	if (bracketed)
		buf_puts(&b, "\x1b[200~");
	buf_append(&b, text, len);
	if (bracketed)
		buf_puts(&b, "\x1b[201~");
	if (input_send(call, p, b.p, b.len, false))
		tool_call_text(call, false, "Pasted %zu chars to session %s.", len, id);
	buf_release(&b);
}

/* ==== the tool ==== */

static void t_process(struct tool_call *call)
{
	const char *action = json_string_value(json_object_get(call->args, "action"));
	const char *id = json_string_value(json_object_get(call->args, "sessionId"));
	struct proc *p;

	if (!action ||
	    (strcmp(action, "list") && strcmp(action, "poll") && strcmp(action, "log") &&
	     strcmp(action, "write") && strcmp(action, "send-keys") && strcmp(action, "submit") &&
	     strcmp(action, "paste") && strcmp(action, "kill") && strcmp(action, "clear") &&
	     strcmp(action, "remove"))) {
		tool_call_text(call, true,
			       "Invalid process action. Expected one of: list, poll, log, write, "
			       "send-keys, submit, paste, kill, clear, remove");
		return;
	}
	if (!strcmp(action, "list")) {
		do_list(call);
		return;
	}
	if (!id || !*id) {
		tool_call_text(call, true, "sessionId is required for this action.");
		return;
	}
	p = proc_find(call->env.agent_id, id);
	if (!strcmp(action, "poll") || !strcmp(action, "log")) {
		if (!p)
			fail(call, "No session found for %s", id);
		else if (p->reason == PROC_RUNNING && !p->backgrounded)
			fail(call, "Session %s is not backgrounded.", id);
		else if (!strcmp(action, "poll"))
			do_poll(call, p, id);
		else
			do_log(call, p);
	} else if (!strcmp(action, "write")) {
		if ((p = writable(call, p, id)))
			do_write(call, p, id);
	} else if (!strcmp(action, "send-keys")) {
		if ((p = writable(call, p, id)))
			do_send_keys(call, p, id);
	} else if (!strcmp(action, "submit")) {
		if ((p = writable(call, p, id)))
			do_submit(call, p, id);
	} else if (!strcmp(action, "paste")) {
		if ((p = writable(call, p, id)))
			do_paste(call, p, id);
	} else if (!strcmp(action, "kill")) {
		if (!p || p->reason != PROC_RUNNING)
			fail(call, "No active session found for %s", id);
		else if (!p->backgrounded)
			fail(call, "Session %s is not backgrounded.", id);
		else {
			proc_kill(p, PROC_CANCELLED);
			tool_call_text(call, false, "Termination requested for session %s.", id);
		}
	} else if (!strcmp(action, "clear")) {
		if (!p || p->reason == PROC_RUNNING) {
			fail(call, "No finished session found for %s", id);
		} else {
			proc_remove(p);
			tool_call_text(call, false, "Cleared session %s.", id);
		}
	} else { /* remove */
		if (!p) {
			fail(call, "No session found for %s", id);
		} else if (p->reason == PROC_RUNNING) {
			if (!p->backgrounded) {
				fail(call, "Session %s is not backgrounded.", id);
				return;
			}
			proc_remove(p);
			tool_call_text(call, false, "Removed session %s (termination requested).",
				       id);
		} else {
			proc_remove(p);
			tool_call_text(call, false, "Removed session %s.", id);
		}
	}
}

const struct tool_def tool_process = {
	.name = "process",
	.group = "runtime",
	.description = "Control existing exec: list, poll, log, write, send-keys, submit, paste, "
		       "kill. poll/log: status, output, quiet success, completion without "
		       "auto-wake, input hints. Others: input/intervention. No polling as "
		       "timer/reminder; scheduled follow-up uses automations.",
	.parameters =
		"{\"type\":\"object\",\"required\":[\"action\"],\"properties\":{"
		"\"action\":{\"type\":\"string\",\"enum\":[\"list\",\"poll\",\"log\",\"write\","
		"\"send-keys\",\"submit\",\"paste\",\"kill\",\"clear\",\"remove\"],\"description\":"
		"\"Process action "
		"(list|poll|log|write|send-keys|submit|paste|kill|clear|remove)\"},"
		"\"sessionId\":{\"type\":\"string\",\"description\":\"Required for every action "
		"except "
		"list.\"},"
		"\"data\":{\"type\":\"string\",\"description\":\"Data to write for write\"},"
		"\"keys\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":"
		"\"Key "
		"tokens to send for send-keys\"},"
		"\"hex\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":\"Hex "
		"bytes to send for send-keys\"},"
		"\"literal\":{\"type\":\"string\",\"description\":\"Literal string for "
		"send-keys\"},"
		"\"text\":{\"type\":\"string\",\"description\":\"Text to paste for paste\"},"
		"\"bracketed\":{\"type\":\"boolean\",\"description\":\"Wrap paste in bracketed "
		"mode\"},"
		"\"eof\":{\"type\":\"boolean\",\"description\":\"Close stdin after write\"},"
		"\"offset\":{\"type\":\"number\",\"description\":\"Log offset\"},"
		"\"limit\":{\"type\":\"number\",\"description\":\"Log length\"},"
		"\"timeout\":{\"type\":\"number\",\"description\":\"For poll: wait up to this many "
		"milliseconds before returning; max 30000 ms, higher values are clamped to 30000\","
		"\"minimum\":0}}}",
	.invoke = t_process,
};
