"""The exec and process tools through real agent turns against the fake
model: output, exit codes, signals, timeouts that kill whole process
groups, output floods, a fork bomb, refused environment overrides, aborts,
background sessions driven with `process`, completion system events, pty."""
import json
import os
import re
import shutil
import time

import pytest

from agentkit import config, connected_tools, fake, run_agent, tool_turn  # noqa: F401

TOOLS = 'tools: { exec: { backgroundMs: 60000 } },'


def group_members(pgid):
    """Live (non-zombie) processes in process group `pgid`."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(d))
    return out


def alive(pid):
    try:
        stat = open("/proc/%d/stat" % pid).read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def wait_until(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def wait_file(path, timeout=10.0):
    assert wait_until(lambda: path.exists() and path.read_text().strip(), timeout), path
    return path.read_text().strip()


def exec_turn(c, fake, args, **kw):
    return tool_turn(c, fake, "exec", args, **kw)


def proc_turn(c, fake, args, **kw):
    return tool_turn(c, fake, "process", args, **kw)


def session_of(text):
    m = re.search(r"Command still running \(session (\S+), pid (\d+)\)", text)
    assert m, text
    return m.group(1), int(m.group(2))


# ---------------------------------------------------------------- foreground


def test_exec_output_cwd_and_env(penv, gateway, fake):
    ws = config(penv, fake, top=TOOLS)
    (ws / "sub").mkdir()
    g = gateway()
    with connected_tools(g.port) as c:
        r = exec_turn(c, fake, {"command": "echo hello; pwd; echo $OPENCLAW_SHELL $PINCER_SHELL"})
        assert not r["isError"], r
        assert r["text"].splitlines() == ["hello", str(ws), "exec exec"]
        r = exec_turn(c, fake, {"command": "pwd; echo $FOO", "workdir": "sub",
                                "env": {"FOO": "b a r"}})
        assert r["text"].splitlines() == [str(ws / "sub"), "b a r"]
        r = exec_turn(c, fake, {"command": "true"})
        assert not r["isError"] and r["text"] == "(no output)"
        r = exec_turn(c, fake, {"command": "pwd", "workdir": "missing"})
        assert r["isError"] and "missing" in r["text"]
        r = exec_turn(c, fake, {"command": "pwd", "workdir": "   "})
        assert r["isError"]
        # stdin is /dev/null in the foreground: a reader ends at once
        r = exec_turn(c, fake, {"command": "cat; echo after"})
        assert r["text"] == "after"
        # the alias
        r = tool_turn(c, fake, "bash", {"command": "echo via-bash"})
        assert r["text"] == "via-bash" and r["name"] == "exec"


def test_exec_exit_codes_and_signals(penv, gateway, fake):
    config(penv, fake, top=TOOLS)
    g = gateway()
    with connected_tools(g.port) as c:
        r = exec_turn(c, fake, {"command": "echo out; echo err >&2; exit 3"})
        assert not r["isError"]
        assert r["text"] == "out\nerr\n\n(Command exited with code 3)"
        r = exec_turn(c, fake, {"command": "kill -9 $$"})
        assert r["isError"] and "Command aborted by signal SIGKILL" in r["text"]
        r = exec_turn(c, fake, {"command": "definitely-not-a-command-xyz"})
        assert r["isError"] and "Command not found" in r["text"]
        r = exec_turn(c, fake, {"command": "printf '\\377\\376ok\\000\\n'"})
        assert not r["isError"] and "ok" in r["text"]


def test_exec_env_overrides_refused(penv, gateway, fake):
    config(penv, fake, top=TOOLS)
    g = gateway()
    with connected_tools(g.port) as c:
        r = exec_turn(c, fake, {"command": "echo ran", "env": {"PATH": "/tmp"}})
        assert r["isError"]
        assert r["text"] == "Security Violation: Custom 'PATH' variable is forbidden during host execution."
        r = exec_turn(c, fake, {"command": "echo ran", "env": {"LD_PRELOAD": "/tmp/x.so"}})
        assert r["isError"] and "'LD_PRELOAD' is forbidden" in r["text"]
        r = exec_turn(c, fake, {"command": "echo ran", "env": {"ld_library_path": "/tmp"}})
        assert r["isError"] and "forbidden" in r["text"]
        r = exec_turn(c, fake, {"command": "echo ran",
                                "env": {"DYLD_INSERT_LIBRARIES": "x", "BASH_ENV": "/x"}})
        assert r["isError"] and "DYLD_INSERT_LIBRARIES" in r["text"] and "BASH_ENV" in r["text"]
        r = exec_turn(c, fake, {"command": "echo ran", "env": {"A-B": "x"}})
        assert r["isError"] and "non-portable" in r["text"]
        assert "ran" not in r["text"]


# ---------------------------------------------------------------- hostile


def test_timeout_kills_the_whole_group(penv, gateway, fake):
    ws = config(penv, fake, top=TOOLS)
    g = gateway()
    with connected_tools(g.port) as c:
        # a grandchild in the background, a shell that ignores SIGTERM (so the
        # kill must escalate to SIGKILL), and a command that never ends
        cmd = ("echo $$ > pg; (sleep 1000 & echo $! > gc; wait) & "
               "trap '' TERM; echo started; sleep 1000")
        t0 = time.monotonic()
        r = exec_turn(c, fake, {"command": cmd, "timeoutSeconds": 1})
        assert time.monotonic() - t0 < 8
        assert r["isError"]
        assert "started" in r["text"] and "Command timed out after 1 seconds." in r["text"]
        pg, gc = int((ws / "pg").read_text()), int((ws / "gc").read_text())
        assert wait_until(lambda: not group_members(pg) and not alive(gc), 5)


def test_output_flood_is_capped(penv, gateway, fake):
    config(penv, fake, top=TOOLS)
    g = gateway()
    with connected_tools(g.port) as c:
        # 30 MB, then a last line: head and tail kept, the middle elided
        r = exec_turn(c, fake, {"command": "echo FIRST; head -c 30000000 /dev/zero | tr '\\0' x;"
                                           " echo; echo LAST"}, timeout=60)
        assert not r["isError"]
        assert r["text"].startswith("FIRST") and r["text"].endswith("LAST")
        assert "bytes of output elided" in r["text"]
        assert len(r["text"]) < 40000
        # a flood that never ends, under a timeout
        r = exec_turn(c, fake, {"command": "yes flood", "timeoutSeconds": 2}, timeout=60)
        assert r["isError"] and "timed out" in r["text"] and len(r["text"]) < 40000
        rss = int(re.search(r"VmRSS:\s+(\d+)", open("/proc/%d/status" % g.proc.pid).read())[1])
        assert rss < 200 * 1024, rss


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv") or not shutil.which("bash"),
                    reason="needs root and setpriv to run the bomb as nobody under a process cap")
def test_fork_bomb_under_timeout(penv, gateway, fake):
    ws = config(penv, fake, top=TOOLS)
    ws.chmod(0o777)
    g = gateway()
    # RLIMIT_NPROC does not bind root, so the bomb runs as nobody with a cap of
    # 64 processes: a real bomb that cannot take the test machine down
    bomb = ("echo $$ > pg; setpriv --reuid=65534 --regid=65534 --clear-groups "
            "bash -c 'ulimit -u 64; f(){ f|f& }; f; sleep 1000' 2>/dev/null")
    with connected_tools(g.port) as c:
        r = exec_turn(c, fake, {"command": bomb, "timeoutSeconds": 2}, timeout=60)
        assert r["isError"] and "timed out" in r["text"]
        pg = int((ws / "pg").read_text())
        assert wait_until(lambda: not group_members(pg), 10), group_members(pg)
        # and the gateway still answers
        r = exec_turn(c, fake, {"command": "echo alive"})
        assert r["text"] == "alive"


def test_abort_kills_the_group(penv, gateway, fake):
    ws = config(penv, fake, top=TOOLS)
    g = gateway()
    with connected_tools(g.port) as c:
        fake.script([{"tool_calls": [{"name": "exec", "arguments": {
            "command": "echo $$ > pg; (sleep 1000 & echo $! > gc; wait) & sleep 1000"}}]},
            {"text": "never"}])
        rid = "abort-%d" % time.monotonic_ns()
        c.send({"type": "req", "id": rid, "method": "agent",
                "params": {"message": "go", "sessionKey": "agent:main:abort",
                           "idempotencyKey": rid}})
        assert c.res(rid)["ok"]
        pg = int(wait_file(ws / "pg"))
        gc = int(wait_file(ws / "gc"))
        assert group_members(pg)
        r = c.call("chat.abort", {"sessionKey": "agent:main:abort"})
        assert r["aborted"] is True
        assert wait_until(lambda: not group_members(pg) and not alive(gc), 5)
        # the run's final answer may have come in before chat.abort's
        final = [f for f in c.events if f.get("type") == "res" and f.get("id") == rid]
        final = final[0] if final else c.res(rid, timeout=15)
        assert final["ok"]
        results = [e for e in c.events if e.get("event") == "agent"
                   and e["payload"].get("stream") == "tool"
                   and e["payload"]["data"].get("phase") == "result"]
        assert results and results[-1]["payload"]["data"]["isError"]
        assert "process group was killed" in json.dumps(results[-1])


# ---------------------------------------------------------------- background


def test_background_write_poll_log_clear(penv, gateway, fake):
    config(penv, fake, top=TOOLS)
    g = gateway()
    with connected_tools(g.port) as c:
        r = exec_turn(c, fake, {"command": "echo ready; read line; echo got:$line; "
                                           "seq 1 300; echo bye", "background": True})
        assert not r["isError"]
        sid, pid = session_of(r["text"])
        r = proc_turn(c, fake, {"action": "list"})
        assert sid in r["text"] and "running" in r["text"]
        r = proc_turn(c, fake, {"action": "poll", "sessionId": sid, "timeout": 5000})
        assert r["text"].startswith("ready") and "Process still running." in r["text"]
        r = proc_turn(c, fake, {"action": "write", "sessionId": sid, "data": "hi\n"})
        assert r["text"] == "Wrote 3 bytes to session %s." % sid
        deadline = time.monotonic() + 10
        seen = ""
        while "Process exited" not in seen and time.monotonic() < deadline:
            seen += proc_turn(c, fake, {"action": "poll", "sessionId": sid,
                                        "timeout": 2000})["text"]
        assert "got:hi" in seen and "Process exited with code 0." in seen
        # log: the last 200 lines by default, or a window
        r = proc_turn(c, fake, {"action": "log", "sessionId": sid})
        assert r["text"].splitlines()[-3] == "bye"
        assert "[showing last 200 of 303 lines; pass offset/limit to page]" in r["text"]
        r = proc_turn(c, fake, {"action": "log", "sessionId": sid, "offset": 0, "limit": 2})
        assert r["text"] == "ready\ngot:hi"
        r = proc_turn(c, fake, {"action": "write", "sessionId": sid, "data": "x"})
        assert r["isError"]
        r = proc_turn(c, fake, {"action": "clear", "sessionId": sid})
        assert r["text"] == "Cleared session %s." % sid
        r = proc_turn(c, fake, {"action": "poll", "sessionId": sid})
        assert r["isError"] and "No session found" in r["text"]
        r = proc_turn(c, fake, {"action": "list"})
        assert r["text"] == "No running or recent sessions."
        r = proc_turn(c, fake, {"action": "frobnicate"})
        assert r["isError"]


def test_yield_then_kill(penv, gateway, fake):
    ws = config(penv, fake, top=TOOLS)
    g = gateway()
    with connected_tools(g.port) as c:
        r = exec_turn(c, fake, {"command": "echo $$ > pg; echo early; sleep 1000",
                                "yieldMs": 300})
        assert not r["isError"]
        sid, pid = session_of(r["text"])
        pg = int((ws / "pg").read_text())
        assert pg == pid and group_members(pg)
        r = proc_turn(c, fake, {"action": "kill", "sessionId": sid})
        assert r["text"] == "Termination requested for session %s." % sid
        assert wait_until(lambda: not group_members(pg), 5)
        r = proc_turn(c, fake, {"action": "poll", "sessionId": sid, "timeout": 3000})
        assert "early" in r["text"]
        assert "Process stopped by request (signal SIGTERM)." in r["text"]
        r = proc_turn(c, fake, {"action": "remove", "sessionId": sid})
        assert r["text"] == "Removed session %s." % sid


def test_background_completion_is_a_system_event(penv, gateway, fake):
    config(penv, fake, top=TOOLS)
    g = gateway()
    with connected_tools(g.port) as c:
        r = exec_turn(c, fake, {"command": "sleep 0.3; echo finished-xyz; exit 4",
                                "background": True})
        sid, _ = session_of(r["text"])
        # quiet success announces nothing
        exec_turn(c, fake, {"command": "true", "background": True})
        time.sleep(1.5)
        fake.reset()
        fake.script([{"text": "ok"}])
        _, final, _ = run_agent(c, "next", sessionKey="agent:main:tooltest")
        assert final["ok"]
        body = json.dumps(fake.requests[-1])
        assert "Exec failed" not in body
        assert ("Exec completed (%s, code 4) :: finished-xyz" % sid[:8]) in body
        assert body.count("Exec completed") == 1


def test_remove_running_session(penv, gateway, fake):
    ws = config(penv, fake, top=TOOLS)
    g = gateway()
    with connected_tools(g.port) as c:
        r = exec_turn(c, fake, {"command": "echo $$ > pg; sleep 1000", "background": True})
        sid, _ = session_of(r["text"])
        pg = int(wait_file(ws / "pg"))
        r = proc_turn(c, fake, {"action": "remove", "sessionId": sid})
        assert r["text"] == "Removed session %s (termination requested)." % sid
        assert wait_until(lambda: not group_members(pg), 5)
        r = proc_turn(c, fake, {"action": "list"})
        assert sid not in r["text"]


# ---------------------------------------------------------------- pty


def test_pty(penv, gateway, fake):
    config(penv, fake, top=TOOLS)
    g = gateway()
    with connected_tools(g.port) as c:
        r = exec_turn(c, fake, {"command": "tty", "pty": True})
        assert not r["isError"] and r["text"].startswith("/dev/pts/"), r
        r = exec_turn(c, fake, {"command": "tty"})
        assert "not a tty" in r["text"]
        # interactive: keys go through the terminal
        r = exec_turn(c, fake, {"command": "stty -echo; echo go; read x; echo got:$x; "
                                           "read y; echo second:$y", "pty": True,
                                "background": True})
        sid, _ = session_of(r["text"])
        r = proc_turn(c, fake, {"action": "poll", "sessionId": sid, "timeout": 5000})
        assert "go" in r["text"]
        r = proc_turn(c, fake, {"action": "send-keys", "sessionId": sid,
                                "literal": "abc", "keys": ["Enter"]})
        assert r["text"] == "Sent 4 bytes to session %s." % sid
        r = proc_turn(c, fake, {"action": "submit", "sessionId": sid, "data": "line2"})
        assert not r["isError"]
        deadline = time.monotonic() + 10
        seen = ""
        while "Process exited" not in seen and time.monotonic() < deadline:
            seen += proc_turn(c, fake, {"action": "poll", "sessionId": sid,
                                        "timeout": 2000})["text"]
        assert "got:abc" in seen and "second:line2" in seen


def test_gateway_exit_kills_background_groups(penv, gateway, fake):
    ws = config(penv, fake, top=TOOLS)
    g = gateway()
    with connected_tools(g.port) as c:
        r = exec_turn(c, fake, {"command": "echo $$ > pg; (sleep 1000 & echo $! > gc; wait) & "
                                           "sleep 1000", "background": True})
        session_of(r["text"])
        pg = int(wait_file(ws / "pg"))
        gc = int(wait_file(ws / "gc"))
    assert g.stop() == 0
    assert wait_until(lambda: not group_members(pg) and not alive(gc), 5)
