/*
 * test_proc.c - exec's child processes (src/tools/proc.c): the head+tail
 * output capture, model-safe text, and real children on a uv loop (exit
 * codes, timeouts killing the group, SIGKILL escalation, stdin, pty).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "tools/proc.h"

/* ==== output capture ==== */

static char *since(const struct proc_out *o, uint64_t from, uint64_t *lost)
{
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	*lost = proc_out_since(o, from, &b);
	return buf_detach(&b, NULL);
}

static void test_out_small_is_exact(void **state)
{
	struct proc_out o;
	uint64_t lost;
	char *s;

	proc_out_init(&o, 1024);
	proc_out_append(&o, "hello ", 6);
	proc_out_append(&o, "world", 5);
	s = since(&o, 0, &lost);
	assert_string_equal(s, "hello world");
	assert_int_equal(lost, 0);
	free(s);
	s = since(&o, 6, &lost);
	assert_string_equal(s, "world");
	free(s);
	proc_out_release(&o);
}

/* Byte i of the test stream. */
static char pat(uint64_t i)
{
	return (char)('a' + (i * 7 + i / 26) % 26);
}

static void check_big(struct proc_out *o, uint64_t total)
{
	uint64_t lost, i;
	char *s, *m;
	size_t head = 256, tail = 768;

	assert_int_equal(o->total, total);
	s = since(o, 0, &lost);
	assert_int_equal(lost, total - head - tail);
	for (i = 0; i < head; i++)
		assert_int_equal(s[i], pat(i));
	m = strstr(s, "bytes of output elided");
	assert_non_null(m);
	m = strchr(m, '\n') + 1;
	assert_int_equal(strlen(m), tail);
	for (i = 0; i < tail; i++)
		assert_int_equal(m[i], pat(total - tail + i));
	free(s);
	/* a late offset: just the last bytes */
	s = since(o, total - 10, &lost);
	assert_int_equal(lost, 0);
	assert_int_equal(strlen(s), 10);
	for (i = 0; i < 10; i++)
		assert_int_equal(s[i], pat(total - 10 + i));
	free(s);
}

static void test_out_keeps_head_and_tail(void **state)
{
	struct proc_out one, many;
	char *data = malloc(10000);
	uint64_t i;
	size_t off, n;

	for (i = 0; i < 10000; i++)
		data[i] = pat(i);
	/* one big append and many odd-sized ones give the same capture */
	proc_out_init(&one, 1024);
	proc_out_append(&one, data, 10000);
	check_big(&one, 10000);
	proc_out_init(&many, 1024);
	for (off = 0, n = 1; off < 10000; off += n, n = n * 3 % 997 + 1)
		proc_out_append(&many, data + off, off + n > 10000 ? 10000 - off : n);
	check_big(&many, 10000);
	proc_out_release(&one);
	proc_out_release(&many);
	free(data);
}

static void test_text_is_model_safe(void **state)
{
	char *t;
	char big[5000];

	t = proc_text("a\r\nb\0c\xff\xfe"
		      "d",
		      9, 0);
	assert_string_equal(t, "a\nbc\xef\xbf\xbd\xef\xbf\xbd"
			       "d");
	free(t);
	/* overlong and surrogate encodings are invalid too */
	t = proc_text("\xc0\xaf\xed\xa0\x80", 5, 0);
	assert_null(strstr(t, "\xc0"));
	free(t);
	/* capped: head and tail with a marker, cuts on whole UTF-8 sequences */
	for (size_t i = 0; i < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	t = proc_text(big, sizeof(big), 1001);
	assert_non_null(strstr(t, "bytes of output elided"));
	assert_null(strstr(t, "\xef\xbf\xbd"));
	assert_true(strlen(t) < 1100);
	free(t);
}

/* ==== real children ==== */

static char *test_env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", NULL };

struct result {
	bool done;
	enum proc_reason reason;
	int code, sig;
	char *out;
};

static void on_exit_cb(struct proc *p, void *arg)
{
	struct result *r = arg;
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	proc_out_since(&p->out, 0, &b);
	r->out = buf_detach(&b, NULL);
	r->done = true;
	r->reason = p->reason;
	r->code = p->exit_code;
	r->sig = p->exit_signal;
}

static struct proc *start(uv_loop_t *loop, const char *cmd, bool pty, bool in, int64_t timeout,
			  struct result *r)
{
	struct proc_spec spec = {
		.command = cmd,
		.cwd = "/",
		.envp = test_env,
		.pty = pty,
		.stdin_pipe = in,
		.timeout_ms = timeout,
		.agent_id = "main",
		.on_exit = on_exit_cb,
		.arg = r,
	};
	char err[256];
	struct proc *p;

	memset(r, 0, sizeof(*r));
	p = proc_spawn(loop, &spec, err, sizeof(err));
	if (!p)
		fail_msg("spawn: %s", err);
	return p;
}

static void tick(uv_timer_t *t)
{
}

static void run_until_done(uv_loop_t *loop, struct result *r)
{
	uv_timer_t keep;

	/* background runs do not hold the loop open (as in the daemon, something else must) */
	uv_timer_init(loop, &keep);
	uv_timer_start(&keep, tick, 10, 10);
	while (!r->done)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&keep, NULL);
	/* let the closed handles go */
	uv_run(loop, UV_RUN_NOWAIT);
	uv_run(loop, UV_RUN_NOWAIT);
}

static void test_exit_code_and_output(void **state)
{
	uv_loop_t loop;
	struct result r;

	uv_loop_init(&loop);
	start(&loop, "echo out; echo err >&2; exit 3", false, false, 0, &r);
	run_until_done(&loop, &r);
	assert_int_equal(r.reason, PROC_EXIT);
	assert_int_equal(r.code, 3);
	assert_string_equal(r.out, "out\nerr\n");
	free(r.out);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_timeout_kills_group_and_escalates(void **state)
{
	uv_loop_t loop;
	struct result r;

	uv_loop_init(&loop);
	/* the shell and its background child ignore SIGTERM: SIGKILL must follow */
	start(&loop, "trap '' TERM; sleep 100 & echo up; wait", false, false, 200, &r);
	run_until_done(&loop, &r);
	assert_int_equal(r.reason, PROC_TIMEOUT);
	assert_int_equal(r.sig, SIGKILL);
	assert_string_equal(r.out, "up\n");
	free(r.out);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_stdin_and_kill(void **state)
{
	uv_loop_t loop;
	struct result r;
	struct proc *p;
	char err[128];

	uv_loop_init(&loop);
	p = start(&loop, "read x; echo got:$x; cat", false, true, 0, &r);
	assert_int_equal(proc_write(p, "hi\nrest", 7, true, err, sizeof(err)), 0);
	assert_int_equal(proc_write(p, "late", 4, false, err, sizeof(err)), -1);
	run_until_done(&loop, &r);
	assert_int_equal(r.reason, PROC_EXIT);
	assert_string_equal(r.out, "got:hi\nrest");
	free(r.out);

	p = start(&loop, "sleep 100", false, true, 0, &r);
	proc_background(p);
	proc_kill(p, PROC_CANCELLED);
	run_until_done(&loop, &r);
	assert_int_equal(r.reason, PROC_CANCELLED);
	assert_int_equal(r.sig, SIGTERM);
	/* a finished background run stays findable until removed */
	assert_ptr_equal(proc_find("main", p->id), p);
	assert_null(proc_find("other-agent", p->id));
	proc_remove(p);
	uv_run(&loop, UV_RUN_NOWAIT);
	free(r.out);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_pty_is_the_controlling_tty(void **state)
{
	uv_loop_t loop;
	struct result r;

	uv_loop_init(&loop);
	start(&loop, "tty; test -t 0 && test -t 1 && echo both", true, false, 5000, &r);
	run_until_done(&loop, &r);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "/dev/pts/"));
	assert_non_null(strstr(r.out, "both"));
	free(r.out);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_bad_cwd(void **state)
{
	struct proc_spec spec = {
		.command = "true",
		.cwd = "/nonexistent/dir",
		.envp = test_env,
		.agent_id = "main",
	};
	char err[256];

	assert_null(proc_spawn(uv_default_loop(), &spec, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/dir"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_small_is_exact),
		cmocka_unit_test(test_out_keeps_head_and_tail),
		cmocka_unit_test(test_text_is_model_safe),
		cmocka_unit_test(test_exit_code_and_output),
		cmocka_unit_test(test_timeout_kills_group_and_escalates),
		cmocka_unit_test(test_stdin_and_kill),
		cmocka_unit_test(test_pty_is_the_controlling_tty),
		cmocka_unit_test(test_bad_cwd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
