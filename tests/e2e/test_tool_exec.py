"""The exec and process tools through real agent turns against the fake
model: output, exit codes, signals, timeouts that kill whole process
groups, output floods, a fork bomb, refused environment overrides, aborts,
background sessions driven with `process`, completion system events, pty."""
import os
import time

from agentkit import config, connected_tools, fake, run_agent, tool_turn  # noqa: F401


def test_exec_echo(penv, gateway, fake):
    ws = config(penv, fake)
    g = gateway()
    with connected_tools(g.port) as c:
        r = tool_turn(c, fake, "exec", {"command": "echo hello; pwd; echo $OPENCLAW_SHELL $PINCER_SHELL"})
        assert not r["isError"], r
        assert r["text"].splitlines() == ["hello", str(ws), "exec exec"]
